package gate_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/tern-dev/tern/actor"
)

// slowWatchdog spends about a millisecond of CPU on every frame.
const slowWatchdog = `
local tern = require "tern"
tern.register("slow")
local gate, addr
local frames = 0
tern.start(function()
	gate = tern.newservice("gate")
	addr = tern.call(gate, "open", { listen = "127.0.0.1:0", protocol = "line", watchdog = tern.self() })
end)
local S = {}
function S.info() return addr, tern.self(), frames end
function S.connect() end
function S.disconnect() end
function S.message(id, data)
	frames = frames + 1
	local t = os.clock()
	while os.clock() - t < 0.001 do end
end
return S
`

// A client that sends faster than its service handles is held back by
// TCP: the gate stops reading it while its events wait, so the service's
// queue stays short and the client's writes block.
func TestFastReaderIsHeldBackByTCP(t *testing.T) {
	rt := bootScripts(t, map[string]string{"main.lua": slowWatchdog})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	info, err := rt.Call(ctx, "slow", "info")
	if err != nil {
		t.Fatal(err)
	}
	watchdog := actor.Addr(info[1].(int64))

	conn, err := net.Dial("tcp", info[0].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	chunk := make([]byte, 64<<10) // 1024 frames of 63 bytes and a newline
	for i := range chunk {
		chunk[i] = 'x'
		if i%64 == 63 {
			chunk[i] = '\n'
		}
	}
	// Unheld, the gate would read all of it into the service's mailbox at
	// once, far faster than the service handles it.
	const most = 256 << 20
	sent := 0
	for {
		_ = conn.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := conn.Write(chunk)
		sent += n
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			break // held back
		}
		if err != nil {
			t.Fatal(err)
		}
		if sent >= most {
			t.Fatalf("wrote %d bytes and was never held back", sent)
		}
	}
	in, ok := rt.System().Info(watchdog)
	if !ok {
		t.Fatal("watchdog gone")
	}
	if in.Queued > 130 {
		t.Errorf("the watchdog has %d events queued; the gate's bound is 128", in.Queued)
	}
	res, err := rt.Call(ctx, "slow", "info")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("client held back after %d bytes (%d frames); the service had handled %d, %d queued", sent, sent/64, res[2], in.Queued)
}
