return { shutdown_timeout = "soon" }
