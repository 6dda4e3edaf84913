return { shutdown_timeout = 1e300 }
