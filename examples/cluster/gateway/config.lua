-- config.lua of the gateway node: the gate and one agent per connection.
-- The data node is data/config.lua; both list the same members.
return {
	cluster = {
		name = "example",
		node = "gateway",
		listen = "127.0.0.1:7701",
		members = {
			{ node = "gateway", address = "127.0.0.1:7701" },
			{ node = "data", address = "127.0.0.1:7702" },
		},
		call_timeout = 3000, -- a call to the other node fails after 3 s
	},
}
