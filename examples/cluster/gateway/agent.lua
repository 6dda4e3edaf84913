-- agent: one connection. Each line is a command for the db, which lives
-- on the data node: "db@data" is a name there, started on first use.
local tern = require "tern"

local DB = "db@data"
local gate, id

tern.start(function(g, conn)
	gate, id = g, conn
end)

local function reply(line)
	tern.send(gate, "write", id, line)
end

local commands = {}

function commands.set(k, v)
	return tern.call(DB, "set", k, v)
end

function commands.get(k)
	local v = tern.call(DB, "get", k)
	if v == nil then
		return "(nil)"
	end
	return v
end

function commands.del(k)
	return tern.call(DB, "del", k) and "1" or "0"
end

function commands.nodes()
	local out = {}
	for _, n in ipairs(tern.nodes()) do
		out[#out + 1] = string.format("%s #%d %s %s", n.name, n.node, n.address, n.up and "up" or "down")
	end
	return table.concat(out, ", ")
end

local function handle(line)
	line = line:gsub("[\r\n]+$", "")
	local words = {}
	for w in line:gmatch("%S+") do
		words[#words + 1] = w
	end
	local f = commands[words[1] or ""]
	if not f then
		return "ERR commands: set K V, get K, del K, nodes"
	end
	local ok, res = pcall(f, words[2], table.concat(words, " ", 3))
	if not ok then
		return "ERR " .. tostring(res)
	end
	return tostring(res)
end

-- A handler that blocks (a call to the db) lets the next line start: the
-- lines queue here and one loop answers them in order.
local lines, busy, closed = {}, false, false

local S = {}

function S.message(_, line)
	table.insert(lines, line)
	if busy then
		return
	end
	busy = true
	while #lines > 0 and not closed do
		reply(handle(table.remove(lines, 1)))
	end
	busy = false
	if closed then
		tern.exit()
	end
end

function S.disconnect()
	closed = true
	if not busy then
		tern.exit()
	end
end

return S
