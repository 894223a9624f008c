package githubapi

import (
	"fmt"
	"strconv"
	"strings"
)

// Int64 is an int64 read from the environment, where a variable set to
// the empty string means 0, as in the original (envconfig alone rejects it).
type Int64 int64

// Decode implements envconfig.Decoder.
func (n *Int64) Decode(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		*n = 0
		return nil
	}
	parsed, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	*n = Int64(parsed)
	return nil
}

// Float64 is a float64 read from the environment, where an empty value means 0.
type Float64 float64

// Decode implements envconfig.Decoder.
func (f *Float64) Decode(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		*f = 0
		return nil
	}
	parsed, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	*f = Float64(parsed)
	return nil
}
