-- The test node's runner (in the test process): the Go test calls these
-- handlers to run the Lua side of the cluster API.
local tern = require "tern"

tern.start(function()
	tern.register("runner", { cluster = true })
end)

local S = {}

function S.ping()
	return "pong from test"
end

function S.call(target, cmd, ...)
	return tern.call(target, cmd, ...)
end

function S.send(target, cmd, ...)
	tern.send(target, cmd, ...)
end

function S.query(name, ms)
	return tern.query(name, ms)
end

function S.unique(name)
	return tern.uniqueservice(name)
end

function S.nodes()
	return tern.nodes()
end

-- An address from another node, used as a local one: ask db for its
-- address, then call it; and give db ours to call back.
function S.addresses()
	local db = tern.call("db@data", "whoami")
	tern.call(db, "set", "via", "address")
	return db, tern.call(db, "get", "via"), tern.call(db, "callback", tern.self())
end

-- n calls to target one after the other, for the benchmarks.
function S.calls(target, n)
	for _ = 1, n do
		tern.call(target, "get", "k")
	end
end

-- n sends in order to target, then what it saw.
function S.sendseq(target, n)
	for i = 1, n do
		tern.send(target, "seq", i)
	end
	return tern.call(target, "seqdone")
end

-- A load: k tasks calling target until load_stop, each error timed.
local load = {}

function S.load_start(target, k)
	load = { ok = 0, errors = 0, running = k, stop = false, slowest = 0 }
	local l = load
	for _ = 1, k do
		tern.fork(function()
			while not l.stop do
				local t0 = tern.now()
				local ok, err = pcall(tern.call, target, "get", "k")
				if ok then
					l.ok = l.ok + 1
				else
					l.errors = l.errors + 1
					l.first = l.first or tostring(err)
					l.slowest = math.max(l.slowest, tern.now() - t0)
					tern.sleep(5)
				end
			end
			l.running = l.running - 1
		end)
	end
end

-- load_stat() -> calls answered, calls failed, the first error, the
-- longest a failed call took (ms), tasks still running.
function S.load_stat()
	return load.ok, load.errors, load.first, load.slowest, load.running
end

function S.load_stop()
	load.stop = true
end

return S
