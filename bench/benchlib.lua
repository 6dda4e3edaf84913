-- benchlib: what the skynet-comparable bench scripts share (require
-- "benchlib"). Options come the way skynet's bench_main.lua takes them, a
-- "key=value key=value" string: the script's first argument when a test
-- launches it, else the BENCH_ARG environment variable (`tern run` passes
-- no arguments). The result is one line in bench_main.lua's format,
--   RESULT <bench> threads=<GOMAXPROCS> key=value ...
-- (keys sorted, whole numbers as integers, others with 3 decimals), so
-- one parser (bench/vs-skynet.sh) reads both runtimes' output.
local tern = require "tern"

local M = {}

function M.opts(arg)
	local s = type(arg) == "string" and arg or os.getenv("BENCH_ARG") or ""
	local o = {}
	for k, v in string.gmatch(s, "([%w_]+)=([^%s]+)") do
		o[k] = tonumber(v) or v
	end
	return o
end

local function format(v)
	if type(v) == "number" then
		if v == math.floor(v) and math.abs(v) < 2 ^ 53 then
			return string.format("%d", v)
		end
		return string.format("%.3f", v)
	end
	return tostring(v)
end

function M.result(name, t)
	local keys = {}
	for k in pairs(t) do
		keys[#keys + 1] = k
	end
	table.sort(keys)
	local parts = { "RESULT", name, "threads=" .. (os.getenv("GOMAXPROCS") or "default") }
	for _, k in ipairs(keys) do
		parts[#parts + 1] = k .. "=" .. format(t[k])
	end
	print(table.concat(parts, " "))
end

-- seconds since t0 (a tern.now() reading, whole milliseconds), never 0
function M.since(t0)
	return math.max(tern.now() - t0, 1) / 1000
end

return M
