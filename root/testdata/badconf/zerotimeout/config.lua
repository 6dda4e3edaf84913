return { shutdown_timeout = 0 }
