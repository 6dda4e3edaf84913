-- sendloop: a sender of bench/send.lua, skynet's bench_send.lua:
-- go(target, n) fires n tern.send(target, "inc", i), one message each.
local tern = require "tern"

local S = {}

function S.go(target, n)
	local send = tern.send
	for i = 1, n do
		send(target, "inc", i)
	end
end

return S
