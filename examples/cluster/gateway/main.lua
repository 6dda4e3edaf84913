-- cluster example, the gateway node: a line protocol over TCP, served by
-- a db on the data node. Start both nodes (see README.md), then:
--   nc 127.0.0.1 8888
--   set k v        -> OK
--   get k          -> v
--   del k          -> 1 (or 0)
--   nodes          -> the cluster's nodes, one line each
-- GATEWAY_LISTEN changes where the gate listens (port 0 picks one).
local tern = require "tern"

local listen = os.getenv("GATEWAY_LISTEN") or "127.0.0.1:8888"
local gate
local agents = {} -- connection id -> its agent (false while it starts)

tern.start(function()
	gate = tern.newservice("gate")
	local addr = tern.call(gate, "open", {
		listen = listen,
		protocol = "line",
		forward_first = true, -- read nothing until the agent is there
		watchdog = tern.self(),
	})
	tern.log("gateway: listening on " .. addr)
end)

-- The watchdog's handlers: a connection gets an agent, which gets its
-- lines from then on.
local S = {}

function S.connect(id, remote)
	agents[id] = false
	local ok, agent = pcall(tern.newservice, "agent", gate, id)
	if not ok then
		tern.error("gateway: no agent for connection " .. id .. ": " .. tostring(agent))
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
end

function S.disconnect(id, reason)
	local agent = agents[id]
	agents[id] = nil
	if agent then
		pcall(tern.send, agent, "disconnect", id, reason)
	end
end

return S
