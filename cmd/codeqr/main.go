// Command codeqr is the whole product in one binary; see internal/cli.
package main

import (
	"context"
	"os"

	"github.com/codeqr/codeqr/internal/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
