// Command telefonistka-argodiff runs the argodiff service alone.
package main

import (
	"os"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/services/argodiff"
)

func main() { os.Exit(app.Main(app.RunOptions{}, argodiff.Builder)) }
