// Command telefonistka-bumper runs the bumper service: it consumes
// bump.requested events from NATS_URL and opens version-bump PRs.
package main

import (
	"os"

	"github.com/telefonistka/telefonistka/pkg/app"
	"github.com/telefonistka/telefonistka/services/bumper"
)

func main() { os.Exit(app.Main(app.RunOptions{}, bumper.Builder)) }
