package lua

import glua "github.com/yuin/gopher-lua"

// The tern module: `local tern = require "tern"`. This file is its
// reference. Each Go function checks its arguments, does one thing,
// pushes its results and returns how many (-1 to suspend the task).
//
// Messaging (msgapi.go; call, calltimeout, newservice and response are
// Lua wrappers in prelude.lua over Go primitives below, so that an error
// is raised where the script called):
//
//	tern.call(addr, cmd, ...)            -> results; raises the callee's error
//	tern.calltimeout(ms, addr, cmd, ...) -> results; raises a timeout after ms
//	tern.send(addr, cmd, ...)            one-way; raises if the target is unknown
//	tern.newservice(script, ...)         -> addr, once its init has run
//	tern.response()                      -> resp(ok, ...), to answer later
//
// Live operations (reload.go; tern.reload is a prelude wrapper):
//
//	tern.reload(addr_or_name)            -> true, once a new VM serves; raises why not
//	tern.reload({script = "agent.lua"})  -> count, {[addr] = err}: every service running it
//	tern.on_save(fn), tern.on_restore(fn)   the state a reload carries over
//
// Names (prelude.lua, calls to the name service):
//
//	tern.register(name [, {cluster = true}]), tern.query(name [, ms]),
//	tern.uniqueservice(name, ...), tern.declare(name, script, ...), tern.list()
//
// The cluster (cluster.go): a name may be "name@node", a service on
// another node, in call, send, query and uniqueservice.
//
//	tern.nodes() -> the cluster's nodes and their traffic
//
// Time and tasks (timeapi.go):
//
//	tern.sleep(ms), tern.timeout(ms, fn), tern.fork(fn, ...),
//	tern.wait([token]), tern.wakeup(token) -> bool, tern.now() -> ms
//
// A service's life (lifeapi.go):
//
//	tern.start(fn), tern.on_shutdown(fn), tern.exit(), tern.shutdown([code]),
//	tern.self() -> addr, tern.address(addr) -> ":0000000a",
//	tern.log(...), tern.error(...), print(...)
var ternAPI = map[string]apiFunc{
	"send":        lSend,
	"sleep":       lSleep,
	"wait":        lTernWait,
	"wakeup":      lWakeup,
	"fork":        lFork,
	"timeout":     lTimeout,
	"now":         lNow,
	"start":       lStart,
	"on_shutdown": lOnShutdown,
	"on_save":     lOnSave,
	"on_restore":  lOnRestore,
	"exit":        lExit,
	"shutdown":    lShutdown,
	"self":        lSelf,
	"address":     lAddress,
	"log":         lLog,
	"memory":      lMemory,
	"trace":       lTrace,
	"error":       lLogError,
	"nodes":       lNodes,
}

// apiFunc is a Go function of the Lua API; the VM's Service comes first.
type apiFunc = func(*Service, *glua.LState) int

// prims are the prelude's own primitives, not part of the tern module
// (the coroutine ones are in coapi.go).
var prims = map[string]apiFunc{
	"call":        lCall,        // (addr, cmd, ...) -> suspends; (ok, results... | err)
	"calltimeout": lCallTimeout, // (ms, addr, cmd, ...) -> the same
	"newservice":  lNewService,  // (script, ...) -> suspends; (ok, addr | err)
	"reload":      lReload,      // (addr) -> suspends; (ok | err)
	"response":    lResponse,    // () -> from, session of the request to answer later
	"respond":     lRespond,     // (from, session, ok, ...) -> answered
	"names":       lNames,       // () -> the name service's address
	"getstart":    lGetStart,    // () -> tern.start's function
	"sethandlers": lSetHandlers, // (S): the table the script returned
	"require":     lRequire,     // the global require
}
