return {
	services = {
		db = { script = "db.lua", args = { "main", 3, { pool = 4 } } },
		cache = { script = "cache" },
	},
}
