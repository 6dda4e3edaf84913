-- timers: ordering of sleep and timeout, wait and wakeup, fork.
local tern = require "tern"
local S = {}

function S.order()
	local log = {}
	local me = coroutine.running()
	tern.timeout(30, function() log[#log + 1] = "t30" end)
	tern.timeout(10, function() log[#log + 1] = "t10" end)
	tern.timeout(20, function() log[#log + 1] = "t20" end)
	tern.timeout(20, function() log[#log + 1] = "t20b" end)
	tern.fork(function()
		tern.sleep(15)
		log[#log + 1] = "s15"
	end)
	log[#log + 1] = "first"
	tern.sleep(50)
	log[#log + 1] = "s50"
	return log
end

function S.waitwake()
	local log = {}
	local token = {}
	tern.fork(function()
		log[#log + 1] = "waiting"
		tern.wait(token)
		log[#log + 1] = "woken"
	end)
	tern.sleep(5)
	log[#log + 1] = "waking"
	local ok = tern.wakeup(token)
	local again = tern.wakeup(token)
	tern.sleep(5)
	return log, ok, again
end

function S.now()
	local t0 = tern.now()
	tern.sleep(20)
	return tern.now() - t0
end

return S
