return { log_levl = "debug" }
