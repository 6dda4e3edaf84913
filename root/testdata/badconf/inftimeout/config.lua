return { shutdown_timeout = 1/0 }
