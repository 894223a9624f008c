// Command telefonistka-planner runs the planner service alone.
package main

import (
	"os"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/services/planner"
)

func main() { os.Exit(app.Main(app.RunOptions{}, planner.Builder)) }
