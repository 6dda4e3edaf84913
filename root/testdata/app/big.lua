-- big: sends a string of n bytes, to test the message cap
local tern = require "tern"
return {
	send = function(to, n) return pcall(tern.send, to, "x", string.rep("x", n)) end,
	x = function() end,
}
