-- stats: a service the statistics tests drive with a known workload.
local tern = require "tern"
local S = {}
function S.ping(n) return n end
function S.fail() error("fails on purpose") end
function S.fanout(to, n)
	for i = 1, n do tern.send(to, "ping", i) end
	return n
end
-- hold(n) leaves n tasks waiting, until release(n).
function S.hold(n)
	for i = 1, n do tern.fork(function() tern.wait("w" .. i) end) end
	return n
end
function S.release(n)
	for i = 1, n do tern.wakeup("w" .. i) end
	return n
end
-- spin(ms) keeps its worker busy for ms milliseconds.
function S.spin(ms)
	local t = tern.now()
	while tern.now() - t < ms do end
	return ms
end
-- spawn(n) starts n anonymous services of this script.
function S.spawn(n)
	for _ = 1, n do tern.newservice("stats") end
	return n
end
-- row: this service's row of tern.list().
function S.row()
	for _, r in ipairs(tern.list()) do
		if r.addr == tern.self() then
			return r.name, r.script, r.state, r.handled, r.sent, r.errors, r.peak, r.tasks, r.busy, r.queued, r.reloads, r.memory
		end
	end
	error("not in tern.list()")
end
return S
