-- drain: the bootstrap of the gate's drain tests (drain_test.go). A
-- watchdog that echoes every frame, but holds a frame "hold X" until the
-- test calls release: then it answers "X". Its handler is suspended
-- (tern.wait) meanwhile, the reply a client waits for while the gate
-- drains. It stays anonymous, so the root shuts it down after the gate.
local tern = require "tern"

local gate
local ids = {}     -- remote address -> connection id
local reasons = {} -- tostring(id) -> why it ended
local messages = 0
local waiting = {} -- a token per held frame, until release
local released = false

local S = {}

-- open(opts): starts the gate and opens it, this service the watchdog.
function S.open(opts)
	gate = tern.newservice("gate")
	opts.watchdog = tern.self()
	return tern.call(gate, "open", opts), gate
end

function S.connect(id, remote)
	ids[remote] = id
end

function S.message(id, data)
	messages = messages + 1
	tern.log("drain watchdog: message " .. data)
	local later = data:match("^hold (.*)$")
	if later then
		if not released then
			local token = {}
			waiting[#waiting + 1] = token
			tern.wait(token)
		end
		data = later
	end
	tern.send(gate, "write", id, data)
end

function S.disconnect(id, reason)
	reasons[tostring(id)] = reason
	tern.log("drain watchdog: disconnect " .. id .. ": " .. reason)
end

-- forward(id): hands the connection to a new drain_agent; returns it.
function S.forward(id)
	local agent = tern.newservice("drain_agent", gate)
	tern.call(gate, "forward", id, agent)
	return agent
end

-- release(): answers every held frame, and those to come.
function S.release()
	released = true
	for _, token in ipairs(waiting) do
		tern.wakeup(token)
	end
	waiting = {}
end

-- A shutdown answers what is still held (the gate may be gone: the
-- writes are dropped).
tern.on_shutdown(S.release)

function S.id(remote) return ids[remote] end
function S.reasons() return reasons end
function S.messages() return messages end
function S.held() return #waiting end

return S
