// Command tern runs a tern application.
//
//	tern run PATH     run a bootstrap script, or a directory with main.lua
//	tern version      print the version
package main

import (
	"context"
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

exit codes: 0 clean, N from tern.shutdown(N), 1 boot failure,
            2 shutdown deadline missed, 3 forced by a second signal
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
		return runPath(args[1], stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "tern: unknown command %q\n%s", args[0], usage)
	return 2
}

func runPath(path string, stderr io.Writer) int {
	cfg, err := root.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, "tern:", err)
		return root.ExitBoot
	}
	cfg.LogOutput, cfg.Signals = stderr, true
	rt, err := root.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "tern:", err)
		return root.ExitBoot
	}
	_ = rt.Start(context.Background()) // a boot error is logged and gives ExitBoot
	return rt.Wait()
}
