// Command embed shows tern embedded in a Go program: the program registers
// a Go service, runs a Lua script that uses it, calls into Lua from Go,
// and shuts down.
//
//	go run ./examples/embed
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/tern-dev/tern"
)

// scoreboard is a Go service Lua calls by name.
func scoreboard([]any) (tern.Service, error) {
	scores := map[string]int64{}
	return tern.Handlers{
		"add": func(c *tern.Context, args []any) ([]any, error) {
			name, _ := args[0].(string)
			points, _ := args[1].(int64)
			scores[name] += points
			return []any{scores[name]}, nil
		},
		"top": func(c *tern.Context, args []any) ([]any, error) {
			best, max := "", int64(-1)
			for name, s := range scores {
				if s > max {
					best, max = name, s
				}
			}
			return []any{best, max}, nil
		},
	}, nil
}

func main() {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	rt, err := tern.New(tern.Config{
		Bootstrap: filepath.Join(dir, "game.lua"),
		Path:      []string{filepath.Join(dir, "?.lua")},
		Services:  map[string]tern.Decl{"scores": {Script: "scoreboard"}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rt.RegisterGo("scoreboard", scoreboard)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "boot:", err)
		os.Exit(rt.Wait())
	}
	// Go calls the Lua service "game" (it registered itself by name).
	res, err := rt.Call(ctx, "game", "play", "ada", 3)
	fmt.Println("game.play ->", res, err)
	res, err = rt.Call(ctx, "scores", "top")
	fmt.Println("scores.top ->", res, err)
	if err := rt.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "shutdown:", err)
	}
	os.Exit(rt.Wait())
}
