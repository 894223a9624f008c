// Command telefonistka-fanout runs the fan-out service alone.
package main

import (
	"os"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/services/fanout"
)

func main() { os.Exit(app.Main(app.RunOptions{}, fanout.Builder)) }
