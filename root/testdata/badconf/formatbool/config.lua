return { log_format = true }
