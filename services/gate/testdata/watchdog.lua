-- watchdog: the bootstrap of the gate's tests. It starts a gate, opens
-- it with the options the test calls "open" with, and echoes every frame
-- back. It records the connection ids by remote address, and the reasons
-- connections ended, for the test to ask; it stays anonymous, so that on
-- shutdown the gate (started after it) stops before it and its
-- disconnect events still arrive.
local tern = require "tern"

local gate
local ids = {}     -- remote address -> connection id
local reasons = {} -- tostring(id) -> why it ended
local messages = 0

local S = {}

-- open(opts): starts the gate and opens it, this service the watchdog.
-- Returns the address listened on and the gate's address.
function S.open(opts)
	gate = tern.newservice("gate")
	opts.watchdog = opts.watchdog or tern.self()
	local addr = tern.call(gate, "open", opts)
	return addr, gate
end

-- newgate(): a gate that is not open.
function S.newgate()
	return tern.newservice("gate")
end

-- try(cmd, ...): calls the gate from Lua; returns pcall's results.
function S.try(cmd, ...)
	return pcall(tern.call, gate, cmd, ...)
end

function S.connect(id, remote)
	ids[remote] = id
end

function S.message(id, data)
	messages = messages + 1
	tern.send(gate, "write", id, data)
end

function S.disconnect(id, reason)
	reasons[tostring(id)] = reason
	tern.log("watchdog: disconnect " .. id .. ": " .. reason)
end

function S.id(remote) return ids[remote] end
function S.reasons() return reasons end
function S.messages() return messages end

-- flood(id, n, size): writes n frames of size bytes to id in the
-- background, a batch at a time, until the connection ends.
function S.flood(id, n, size)
	local pad = string.rep("x", size)
	tern.fork(function()
		for i = 1, n do
			if reasons[tostring(id)] then
				return
			end
			tern.send(gate, "write", id, pad)
			if i % 64 == 0 then
				tern.sleep(1)
			end
		end
	end)
end

-- numbered(id, n, size): writes "1 xxx...", "2 xxx...", ... "n xxx..."
-- to id, now.
function S.numbered(id, n, size)
	local pad = string.rep("x", size)
	for i = 1, n do
		tern.send(gate, "write", id, i .. " " .. pad)
	end
	return n
end

-- writers(id, n): two writer services each write n numbered frames to id
-- at the same time, "A 1" ... "A n" and "B 1" ... "B n".
function S.writers(id, n)
	local a = tern.newservice("writer")
	local b = tern.newservice("writer")
	tern.send(a, "run", gate, id, "A", n)
	tern.send(b, "run", gate, id, "B", n)
end

-- forward(id): hands the connection to a new agent; returns its address.
function S.forward(id)
	local agent = tern.newservice("agent", gate)
	tern.call(gate, "forward", id, agent)
	return agent
end

return S
