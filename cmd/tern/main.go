// Command tern runs a tern application.
//
//	tern run PATH     run a bootstrap script, or a directory with main.lua
//	tern version      print the version
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/tern-dev/tern/root"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  tern run PATH    run PATH: a bootstrap .lua script, or a directory
                   holding main.lua and an optional config.lua
  tern version     print the version
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "tern", Version)
		return 0
	case "run":
		if len(args) != 2 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		cfg, err := root.Load(args[1])
		if err != nil {
			fmt.Fprintln(stderr, "tern:", err)
			return root.ExitBoot
		}
		return root.Run(cfg, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "tern: unknown command %q\n%s", args[0], usage)
	return 2
}
