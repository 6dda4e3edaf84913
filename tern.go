// Package tern embeds the tern runtime in a Go program: Lua services and
// Go services, messaging each other, under one root that owns shutdown.
//
//	rt, err := tern.New(tern.Config{Bootstrap: "main.lua", Path: []string{"scripts/?.lua"}})
//	rt.RegisterGo("math", func(args []any) (tern.Service, error) { return mathService{}, nil })
//	err = rt.Start(ctx)                         // boots; runs main.lua's init
//	res, err := rt.Call(ctx, "db", "get", "k")  // by name or tern.Addr
//	err = rt.Shutdown(ctx)                      // the same protocol as SIGTERM
//	code := rt.Wait()
//
// Relative file names in Config (Bootstrap, Path) are relative to the
// working directory when New runs; see root.New.
//
// Go values cross into Lua and back as nil, bools, numbers, strings,
// slices and maps; other types are an error naming the argument. Exactly
// what each becomes, and what comes back (which numbers come back as
// int64 and which as float64, the integers Lua cannot hold exactly, which
// tables come back as []any and which as maps) is in README.md: section
// "Embedding in Go", the list after "Go values map to Lua and back".
package tern

import (
	"context"

	"github.com/tern-dev/tern/actor"
	"github.com/tern-dev/tern/names"
	"github.com/tern-dev/tern/root"
)

// Runtime is a running tern: see root.Runtime.
type Runtime = root.Runtime

// Config configures a runtime; config.lua sets the same fields.
type Config = root.Config

// Decl declares a service started on first use of its name.
type Decl = names.Decl

// Service is a Go service: Init, Receive, Stopped.
type Service = actor.Service

// Handlers is a Go service made of one function per command.
type Handlers = actor.Handlers

// Context is a service's handle on the runtime.
type Context = actor.Context

// Addr is a service address.
type Addr = actor.Addr

// GoFactory makes a Go service from its start arguments.
type GoFactory = root.GoFactory

// ClusterConfig joins the runtime to a cluster (Config.Cluster; see the
// README's Cluster section).
type ClusterConfig = actor.ClusterConfig

// ClusterMember is one node of a static cluster.
type ClusterMember = actor.ClusterMember

// NodeInfo describes a node of the cluster (Runtime.Nodes).
type NodeInfo = actor.NodeInfo

// WithTrace makes Runtime.Call's request a traced one, tagged tag: the
// Lua services it reaches log each hop (tern.trace).
func WithTrace(ctx context.Context, tag string) context.Context { return actor.WithTrace(ctx, tag) }

// New builds a runtime; nothing runs until Start.
func New(cfg Config) (*Runtime, error) { return root.New(cfg) }

// Load reads the configuration of `tern run path`.
func Load(path string) (Config, error) { return root.Load(path) }

// Exit codes returned by Runtime.Wait.
const (
	ExitOK       = root.ExitOK
	ExitBoot     = root.ExitBoot
	ExitDeadline = root.ExitDeadline
	ExitForced   = root.ExitForced
)

// Errors of the Runtime's methods, for errors.Is.
var (
	// ErrStarted: Start was called twice, or RegisterGo after Start.
	ErrStarted = root.ErrStarted
	// ErrNotStarted: Call, Send or Shutdown before Start.
	ErrNotStarted = root.ErrNotStarted
	// ErrStopped: the runtime has ended (or ended during Start).
	ErrStopped = root.ErrStopped
)
