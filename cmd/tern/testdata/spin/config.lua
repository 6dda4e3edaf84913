return { shutdown_timeout = 300 }
