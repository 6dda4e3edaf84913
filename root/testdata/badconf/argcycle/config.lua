local t = {}
t.self = t
return { services = { db = { script = "db", args = { t } } } }
