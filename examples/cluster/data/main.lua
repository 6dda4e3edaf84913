-- The data node's bootstrap: nothing to start. The db service is
-- declared in config.lua and starts when the gateway first asks for
-- "db@data".
local tern = require "tern"

tern.start(function()
	tern.log("data node ready")
end)

return {}
