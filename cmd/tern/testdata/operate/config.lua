return {
	admin = { listen = "127.0.0.1:0", token = "secret" },
	console = { listen = "127.0.0.1:0" },
}
