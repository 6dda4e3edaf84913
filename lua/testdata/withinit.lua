-- withinit: init receives the creator's arguments and may block.
local tern = require "tern"
local got
tern.start(function(a, b)
	tern.sleep(1)
	got = a .. "+" .. b
end)
return {
	get = function() return got end,
}
