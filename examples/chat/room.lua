-- room: one chat room. Its members are connection ids; a line said in the
-- room goes to all of them with one write_many to the gate.
local tern = require "tern"

local gate, name
local members = {} -- connection id -> nick

tern.start(function(g, n)
	gate, name = g, n
end)

local function broadcast(line)
	local ids = {}
	for id in pairs(members) do
		ids[#ids + 1] = id
	end
	if #ids > 0 then
		tern.send(gate, "write_many", ids, line)
	end
end

local S = {}

function S.join(id, nick)
	members[id] = nick
	broadcast("* " .. nick .. " joined " .. name)
end

function S.leave(id)
	local nick = members[id]
	if nick then
		members[id] = nil
		broadcast("* " .. nick .. " left " .. name)
	end
end

function S.say(id, text)
	local nick = members[id]
	if nick then
		broadcast(nick .. ": " .. text)
	end
end

function S.members()
	local n = 0
	for _ in pairs(members) do
		n = n + 1
	end
	return n
end

return S
