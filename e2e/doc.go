// Package e2e holds end-to-end tests: signed webhooks from the GitHub
// emulator into ingress, through every service on an embedded JetStream,
// asserting on the emulator's repositories.
package e2e
