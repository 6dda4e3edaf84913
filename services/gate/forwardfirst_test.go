package gate_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"testing"
	"time"
)

// The watchdog takes its time to start each agent; with forward_first, a
// client's first lines wait for the agent instead of reaching the
// watchdog.
const forwardFirstMain = `
local tern = require "tern"
tern.register("ff")
local gate, addr
local stray = 0
tern.start(function()
	gate = tern.newservice("gate")
	addr = tern.call(gate, "open", { listen = "127.0.0.1:0", protocol = "line", watchdog = tern.self(), forward_first = true })
end)
local S = {}
function S.info() return addr, stray end
function S.connect(id)
	tern.sleep(50) -- the client's lines arrive meanwhile
	local agent = tern.newservice("agent", gate)
	tern.send(gate, "forward", id, agent)
end
function S.message(id, data)
	stray = stray + 1
	tern.send(gate, "write", id, "watchdog " .. data)
end
function S.disconnect() end
return S
`

const forwardFirstAgent = `
local tern = require "tern"
local gate
tern.start(function(g) gate = g end)
return {
	message = function(id, data) tern.send(gate, "write", id, "agent " .. data) end,
	disconnect = function() tern.exit() end,
}
`

func TestForwardFirstHoldsInputForTheAgent(t *testing.T) {
	rt := bootScripts(t, map[string]string{"main.lua": forwardFirstMain, "agent.lua": forwardFirstAgent})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := rt.Call(ctx, "ff", "info")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", info[0].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const lines = 20
	for i := range lines { // at once, before the agent exists
		fmt.Fprintf(conn, "%d\n", i)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	in := bufio.NewScanner(conn)
	for i := range lines {
		if !in.Scan() {
			t.Fatalf("line %d: %v", i, in.Err())
		}
		if want := fmt.Sprintf("agent %d", i); in.Text() != want {
			t.Fatalf("got %q, want %q", in.Text(), want)
		}
	}
	if info, err = rt.Call(ctx, "ff", "info"); err != nil || info[1].(int64) != 0 {
		t.Fatalf("the watchdog got %v messages (err %v)", info[1], err)
	}
}
