-- pong: the callee of the call benchmarks (bench/call.lua and the Go
-- BenchmarkLuaCall). ping(n) answers n + 1.
local S = {}

function S.ping(n)
	return n + 1
end

return S
