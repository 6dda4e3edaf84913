return { services = { db = { scirpt = "db" } } }
