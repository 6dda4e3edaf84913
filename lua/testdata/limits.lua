-- limits: arguments out of range raise errors that say what was passed
-- (durations, addresses, exit codes), and one message cannot grow past
-- the runtime's cap. Each handler returns what each attempt gave: the
-- error message, or "ok".
local tern = require "tern"
local S = {}

local function try(f, ...)
	local ok, err = pcall(f, ...)
	return ok and "ok" or tostring(err)
end

-- Bad numbers, with their labels. gopher-lua's math.huge is the largest
-- float, not infinity.
local inf = 1 / 0
local huge = {
	{ "inf", inf }, { "-inf", -inf }, { "nan", 0 / 0 }, { "huge", math.huge }, { "1e13", 1e13 },
}

function S.noop() end

-- durations: sleep, timeout, calltimeout and query with each bad value.
function S.durations()
	local out = {}
	local cases = { { "max+1", 30 * 24 * 3600 * 1000 + 1 }, unpack(huge) }
	for _, c in ipairs(cases) do
		local n, v = c[1], c[2]
		out["sleep " .. n] = try(tern.sleep, v)
		out["timeout " .. n] = try(tern.timeout, v, function() end)
		out["calltimeout " .. n] = try(tern.calltimeout, v, tern.self(), "noop")
		out["query " .. n] = try(tern.query, "nobody", v)
	end
	-- what is allowed: a negative duration counts as 0, fractions are fine
	out["sleep -5"] = try(tern.sleep, -5)
	out["sleep 0.5"] = try(tern.sleep, 0.5)
	out["calltimeout 1000"] = try(tern.calltimeout, 1000, tern.self(), "noop")
	return out
end

-- addresses: each bad address, to call, send and address.
function S.addresses()
	local out = {}
	local cases = {
		{ "1.5", 1.5 }, { "3.99", 3.99 }, { "-1", -1 }, { "0", 0 }, { "2^48+3", 2 ^ 48 + 3 },
		{ "2^48", 2 ^ 48 }, { ":00000000", ":00000000" }, { "1e9", 1e9 }, unpack(huge),
	}
	for _, c in ipairs(cases) do
		local n, v = c[1], c[2]
		out["call " .. n] = try(tern.call, v, "noop")
		out["send " .. n] = try(tern.send, v, "noop")
		out["address " .. n] = try(tern.address, v)
	end
	out["call self"] = try(tern.call, tern.self(), "noop")
	out["call self string"] = try(tern.call, tern.address(tern.self()), "noop")
	return out
end

-- codes: tern.shutdown with each bad exit code.
function S.codes()
	local out = {}
	local cases = { { "256", 256 }, { "258", 258 }, { "2.7", 2.7 }, { "-1", -1 }, unpack(huge) }
	for _, c in ipairs(cases) do
		out[c[1]] = try(tern.shutdown, c[2])
	end
	out["string"] = try(tern.shutdown, "x")
	return out
end

function S.shutdown(code)
	tern.shutdown(code)
end

-- dag builds a table of 2^n paths to {1} through shared subtables.
local function dag(n)
	local t = { 1 }
	for _ = 1, n do
		t = { t, t }
	end
	return t
end

-- bomb sends, calls and spawns with a message of 2^n copies, then sends
-- a string of len bytes.
function S.bomb(n, len)
	local t = dag(n)
	return try(tern.send, tern.self(), "noop", t),
		try(tern.call, tern.self(), "noop", "x", t),
		try(tern.newservice, "echo", t),
		try(tern.send, tern.self(), "noop", string.rep("x", len))
end

-- bigreply returns 2^n copies: the caller gets the error.
function S.bigreply(n)
	return dag(n)
end

-- answer answers the call later through tern.response.
function S.respond_big(n)
	local resp = tern.response()
	local ok, err = pcall(resp, true, dag(n))
	return ok, tostring(err)
end

-- roundtrip: what comes back from a Go value.
function S.echo(...)
	return ...
end

return S
