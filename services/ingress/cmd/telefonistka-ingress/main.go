// Command telefonistka-ingress runs the ingress service alone.
package main

import (
	"os"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/services/ingress"
)

func main() { os.Exit(app.Main(app.RunOptions{}, ingress.Builder)) }
