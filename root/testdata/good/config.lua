return { path = "lib/?.lua;/abs/?.lua", log_level = "debug", log_format = "json", shutdown_timeout = 250, max_message = 1048576, workers = 3, services = {} }
