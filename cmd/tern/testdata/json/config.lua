return { log_format = "json" }
