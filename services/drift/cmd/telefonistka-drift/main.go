// Command telefonistka-drift runs the drift service alone.
package main

import (
	"os"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/services/drift"
)

func main() { os.Exit(app.Main(app.RunOptions{}, drift.Builder)) }
