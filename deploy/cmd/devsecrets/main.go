// Command devsecrets writes the throwaway GitHub App key and NATS
// credentials of the local docker-compose stack into DIR, once (see
// internal/devsecrets). Files already there are kept.
package main

import (
	"fmt"
	"os"

	"github.com/telefonistka/telefonistka/deploy/internal/devsecrets"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: devsecrets DIR")
		os.Exit(2)
	}
	written, err := devsecrets.Write(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "devsecrets:", err)
		os.Exit(1)
	}
	for _, f := range written {
		fmt.Println("wrote", f)
	}
	if len(written) == 0 {
		fmt.Println("kept the credentials already in", os.Args[1])
	}
}
