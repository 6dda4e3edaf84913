// Package bench holds tern's performance benchmarks (bench_*_test.go) and
// the Lua scripts that run the same workloads from the command line
// (go run ./cmd/tern run bench/call.lua), so that they can be compared with
// skynet. docs/PERFORMANCE.md has the figures and how to rerun them.
//
// The package has no code of its own: everything is in the tests.
package bench
