-- stuck: a declared service whose init never ends
local tern = require "tern"
tern.start(function() tern.wait() end)
return { ping = function() return "pong" end }
