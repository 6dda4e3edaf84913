-- drain_agent: an agent for the drain tests (drain_test.go): it gets a
-- connection's events once drain.lua forwarded it, echoes each frame with
-- "agent: " before it, and holds a frame "hold X" until release, as
-- drain.lua does.
local tern = require "tern"

local gate
local waiting = {} -- a token per held frame, until release
local released = false

tern.start(function(g)
	gate = g
end)

local S = {}

function S.message(id, data)
	local later = data:match("^hold (.*)$")
	if later then
		if not released then
			local token = {}
			waiting[#waiting + 1] = token
			tern.wait(token)
		end
		data = later
	end
	tern.send(gate, "write", id, "agent: " .. data)
end

function S.disconnect() end

-- release(): answers every held frame, and those to come.
function S.release()
	released = true
	for _, token in ipairs(waiting) do
		tern.wakeup(token)
	end
	waiting = {}
end

tern.on_shutdown(S.release)

function S.held() return #waiting end

return S
