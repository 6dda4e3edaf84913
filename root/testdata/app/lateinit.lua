-- lateinit: a declared service whose init takes a while; it records what
-- it is sent, in order
local tern = require "tern"
local got = {}
tern.start(function() tern.sleep(50) end)
return {
	push = function(x) got[#got + 1] = x end,
	got = function() return got end,
}
