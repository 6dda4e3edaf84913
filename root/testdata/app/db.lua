-- db: a declared service; its init takes a while, to widen the window in
-- which first lookups race.
local tern = require "tern"
local store = {}
tern.start(function(prefix)
	tern.sleep(20)
	store.prefix = prefix
end)
return {
	get = function(k) return (store.prefix or "") .. k end,
	exit = function() tern.exit() end,
}
