return { log_level = 3 }
