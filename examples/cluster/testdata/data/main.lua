-- The data node's bootstrap: a cluster name, "datamain", which the test
-- node finds by its bare name.
local tern = require "tern"

tern.start(function()
	tern.register("datamain", { cluster = true })
	tern.log("data node ready")
end)

local S = {}

function S.hello(who)
	return "hello " .. tostring(who) .. " from data"
end

-- The test node's runner, by name: "runner@test".
function S.ask_runner()
	return tern.call("runner@test", "ping")
end

-- The same by its bare name: the test node registered it with
-- {cluster = true} before this node started.
function S.ask_runner_bare()
	return tern.call("runner", "ping")
end

return S
