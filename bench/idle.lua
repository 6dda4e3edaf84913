-- idle: a typical small service, the one the spawn and idle-memory
-- benchmarks start by the thousand. It keeps a little state, has a few
-- handlers and an init function, then waits for requests that never come.
local tern = require "tern"

local S = {}
local name, started
local store = {}
local hits = 0

function S.get(key)
	hits = hits + 1
	return store[key]
end

function S.set(key, value)
	local old = store[key]
	store[key] = value
	return old
end

function S.stats()
	return { name = name, started = started, hits = hits }
end

function S.ping(n)
	return n + 1
end

tern.start(function(who)
	name = who or "idle"
	started = tern.now()
end)

return S
