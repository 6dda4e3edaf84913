-- restartecho: examples/echo for the graceful restart tests. The test
-- copies this directory, writes config.lua, and edits slow_ms to make a
-- new process slow to get ready.
local tern = require "tern"

local listen = os.getenv("ECHO_LISTEN") or "127.0.0.1:8888"
local protocol = os.getenv("ECHO_PROTOCOL") or "line"
local slow_ms = 0
local gate

tern.start(function()
	if slow_ms > 0 then
		tern.sleep(slow_ms)
	end
	gate = tern.newservice("gate")
	local addr = tern.call(gate, "open", {
		listen = listen,
		protocol = protocol,
		watchdog = tern.self(),
	})
	tern.log("echo: listening on " .. addr .. " (" .. protocol .. ")")
end)

local S = {}

function S.connect(id, remote) end

function S.message(id, data)
	tern.send(gate, "write", id, data)
end

function S.disconnect(id, reason) end

return S
