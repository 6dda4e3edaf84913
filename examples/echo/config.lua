-- config.lua of the echo example.
return {
	log_level = "info",
}
