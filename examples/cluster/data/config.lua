-- config.lua of the data node: it declares the db service, which starts
-- on its first lookup, from this node or another ("db@data").
return {
	cluster = {
		name = "example",
		node = "data",
		listen = "127.0.0.1:7702",
		members = {
			{ node = "gateway", address = "127.0.0.1:7701" },
			{ node = "data", address = "127.0.0.1:7702" },
		},
		call_timeout = 3000,
	},
	services = {
		db = { script = "db.lua" },
	},
}
