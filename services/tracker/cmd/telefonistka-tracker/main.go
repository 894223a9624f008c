// Command telefonistka-tracker runs the tracker service alone.
package main

import (
	"os"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/services/tracker"
)

func main() { os.Exit(app.Main(app.RunOptions{}, tracker.Builder)) }
