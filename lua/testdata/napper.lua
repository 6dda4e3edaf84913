-- napper: requests that mostly wait.
local tern = require "tern"
return {
	nap = function(ms)
		tern.sleep(ms)
		return true
	end,
}
