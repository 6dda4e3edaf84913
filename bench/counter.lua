-- counter: the receiver of the one-way send benchmarks (bench/send.lua and
-- the Go BenchmarkLuaSend). inc counts a message; count answers the total.
-- A service's messages are handled in order, so when count answers a
-- sender, every inc that sender sent before has been counted.
local S = {}
local n = 0

function S.inc()
	n = n + 1
end

function S.count()
	return n
end

return S
