-- member: logs its on_shutdown; registers its name only when asked, so
-- that registration order can differ from start order.
local tern = require "tern"
local me
tern.start(function(name)
	me = name
	tern.on_shutdown(function() tern.log("on_shutdown", me) end)
end)
return { register = function() tern.register(me) end }
