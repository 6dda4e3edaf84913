-- chat: chat rooms over WebSocket, with a web page to chat from.
--   go run ./cmd/tern run examples/chat
-- then open the URL it logs (http://127.0.0.1:8080/ by default; CHAT_LISTEN
-- sets host:port, port 0 picks a free one) in two browser tabs.
--
-- The services:
--   main.lua   this one: opens the gate and is its watchdog; makes one
--              agent per connection and one room service per room
--   agent.lua  one connection: parses its lines, joins its room, relays
--   room.lua   one room: its members, and writes each line to all of them
--              at once through the gate (write_many)
--
-- The protocol: text WebSocket messages, one line each.
--   server -> client  "* welcome: join <room> <nick>"   once the agent listens
--   client -> server  "join <room> <nick>"             join a room (leaving the
--                                                      one before); no spaces in
--                                                      room or nick
--                     "<text>"                         say text in the room
--   server -> client  "* <nick> joined <room>"         to the room's members
--                     "* <nick> left <room>"
--                     "<nick>: <text>"                 someone said text
--                     "! <error>"                      to the client alone
local tern = require "tern"

local listen = os.getenv("CHAT_LISTEN") or "127.0.0.1:8080"
local gate, url

tern.start(function()
	tern.register("chat") -- so a Go test finds it: rt.Call(ctx, "chat", "url")
	gate = tern.newservice("gate")
	local addr = tern.call(gate, "open", {
		listen = listen,
		protocol = "websocket",
		path = "/ws",
		text = true,          -- lines go out as text messages
		static = "www",       -- the page, at every other path
		max_frame = 4096,
		idle_timeout_ms = 0,  -- a chat may be quiet: keep idle connections
		forward_first = true, -- read nothing until the agent is there
		watchdog = tern.self(),
	})
	url = "http://" .. addr .. "/"
	tern.log("chat: open " .. url .. " in a browser")
end)

local S = {}
local agents = {} -- connection id -> its agent (false while it starts)
local rooms = {}  -- room name -> its service, or the callers waiting while it starts

function S.url()
	return url
end

-- The gate's events. With forward_first, the gate reads a connection
-- only after its forward: every message goes to its agent, none here.
function S.connect(id, remote)
	agents[id] = false
	local ok, agent = pcall(tern.newservice, "agent", gate, id, tern.self())
	if not ok then
		tern.error("chat: no agent for connection " .. id .. ": " .. tostring(agent))
		tern.send(gate, "close", id, "no agent")
		agents[id] = nil
		return
	end
	if agents[id] == nil then -- it disconnected meanwhile
		tern.send(agent, "disconnect", id, "closed")
		return
	end
	agents[id] = agent
	tern.send(gate, "forward", id, agent)
	tern.send(gate, "write", id, "* welcome: join <room> <nick>")
end

function S.disconnect(id, reason)
	local agent = agents[id]
	agents[id] = nil
	if agent then
		pcall(tern.send, agent, "disconnect", id, reason)
	end
end

-- An agent is gone.
function S.gone(id)
	agents[id] = nil
end

-- room returns the room service called name, starting it on first use;
-- callers asking while it starts wait for it.
function S.room(name)
	local r = rooms[name]
	if type(r) == "table" then
		table.insert(r, coroutine.running())
		tern.wait()
		r = rooms[name]
	end
	if r then
		return r
	end
	local waiting = {}
	rooms[name] = waiting
	local ok, addr = pcall(tern.newservice, "room", gate, name)
	rooms[name] = ok and addr or nil
	for _, co in ipairs(waiting) do
		tern.wakeup(co)
	end
	if not ok then
		error(addr)
	end
	return addr
end

-- How many are in a room (0 for a room never joined).
function S.members(name)
	local r = rooms[name]
	if type(r) ~= "number" then
		return 0
	end
	return tern.call(r, "members")
end

return S
