return { services = { db = { script = "db", args = { 1, { handler = function() end } } } } }
