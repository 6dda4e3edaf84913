return { shutdown_timeout = 0/0 }
