-- spinner: a handler that neither returns nor yields for ms
local tern = require "tern"
return {
	spin = function(ms)
		tern.log("spinning")
		local t = tern.now()
		while tern.now() - t < ms do end
	end,
}
