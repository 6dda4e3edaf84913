-- agent: one per connection. The gate forwards the connection's events
-- here; the agent parses the lines (see main.lua for the protocol), joins
-- a room and says the rest in it. It exits when the connection closes.
local tern = require "tern"

local gate, id, watchdog
local room, nick -- once joined

tern.start(function(g, conn, w)
	gate, id, watchdog = g, conn, w
end)

local function reply(line)
	tern.send(gate, "write", id, line)
end

local function leave()
	if room then
		tern.send(room, "leave", id)
		room = nil
	end
end

local function handle(line)
	line = line:gsub("[\r\n]+$", "")
	local r, n = line:match("^join%s+(%S+)%s+(%S+)%s*$")
	if r then
		if #r > 32 or #n > 32 then
			return reply("! room and nick are at most 32 bytes")
		end
		leave()
		room, nick = tern.call(watchdog, "room", r), n
		tern.send(room, "join", id, nick)
	elseif line:match("^join") then
		reply("! usage: join <room> <nick>")
	elseif not room then
		reply("! join a room first: join <room> <nick>")
	elseif line ~= "" then
		tern.send(room, "say", id, line)
	end
end

-- A handler that blocks (the room lookup) lets the next event run: so the
-- lines queue here and one loop handles them in order, like skynet.queue.
local lines, busy, closed = {}, false, false

local function finish()
	leave()
	tern.send(watchdog, "gone", id)
	tern.exit()
end

local S = {}

function S.message(_, line)
	table.insert(lines, line)
	if busy then
		return
	end
	busy = true
	while #lines > 0 and not closed do
		local ok, err = pcall(handle, table.remove(lines, 1))
		if not ok then
			tern.error("chat agent: " .. tostring(err))
			reply("! " .. tostring(err))
		end
	end
	busy = false
	if closed then
		finish()
	end
end

function S.disconnect()
	closed = true
	if not busy then
		finish()
	end
end

return S
