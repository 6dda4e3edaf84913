-- echo: a TCP echo server on the gate. Every frame a client sends comes
-- back to it. Try it:
--   go run ./cmd/tern run examples/echo
--   nc 127.0.0.1 8888          (type a line, get it back)
-- ECHO_LISTEN and ECHO_PROTOCOL ("line", "len16", "len32", "websocket")
-- change where and how it listens (bench/gate.sh uses them).
local tern = require "tern"

local listen = os.getenv("ECHO_LISTEN") or "127.0.0.1:8888"
local protocol = os.getenv("ECHO_PROTOCOL") or "line"
local gate

tern.start(function()
	gate = tern.newservice("gate")
	local addr = tern.call(gate, "open", {
		listen = listen,
		protocol = protocol,
		watchdog = tern.self(), -- this service gets the connections' events
	})
	tern.log("echo: listening on " .. addr .. " (" .. protocol .. ")")
end)

-- The watchdog's handlers: the gate sends them, one connection's events
-- in order.
local S = {}

function S.connect(id, remote)
	tern.log("echo: connection " .. id .. " from " .. remote)
end

function S.message(id, data)
	tern.send(gate, "write", id, data) -- the gate frames it and writes it
end

function S.disconnect(id, reason)
	tern.log("echo: connection " .. id .. " closed: " .. reason)
end

return S
