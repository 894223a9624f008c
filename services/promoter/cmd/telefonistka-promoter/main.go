// Command telefonistka-promoter runs the promoter service alone.
package main

import (
	"os"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/services/promoter"
)

func main() { os.Exit(app.Main(app.RunOptions{}, promoter.Builder)) }
