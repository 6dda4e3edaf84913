-- agent: gets a connection's events after the watchdog forwarded it, and
-- echoes with a prefix.
local tern = require "tern"

local gate
local reasons = {}

tern.start(function(g)
	gate = g
end)

local S = {}

function S.message(id, data)
	tern.send(gate, "write", id, "agent: " .. data)
end

function S.disconnect(id, reason)
	reasons[tostring(id)] = reason
end

function S.reasons() return reasons end

function S.quit()
	tern.exit()
end

return S
