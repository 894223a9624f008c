// Package config parses and validates Telefonistka's configuration files:
// the repository file (telefonistka.yaml at the repo root) and the component
// files (<component path>/telefonistka.yaml).
//
// Parsing never panics and never stops at the first problem: every problem
// becomes a Finding with the file, line, column and key path at fault. Errors
// make the configuration unusable (nothing is promoted for the event);
// warnings are reported by `telefonistka validate` only and never change
// what happens at run time.
//
// The package is pure: it reads bytes it is given and does no I/O.
package config
