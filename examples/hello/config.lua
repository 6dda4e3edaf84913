-- config.lua: read by `tern run examples/hello` before main.lua starts.
return {
	log_level = "info",   -- debug, info, warn, error
	log_format = "text",  -- text or json
	shutdown_timeout = 5000, -- ms
	path = { "lib/?.lua" }, -- extra places for require and newservice
	-- declared services start on the first lookup of their name
	services = {
		stats = { script = "stats", args = { "hello" } },
	},
}
