-- a long deadline: only a second signal ends the shutdown early
return { shutdown_timeout = 60000 }
