return { shutdown_timeout = 100 }
