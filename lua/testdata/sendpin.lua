-- sendpin: TestLuaSendAlloc's services. run(target, n) sends n "inc" to
-- target, then calls its done, which answers after every inc before it
-- (a service handles its messages in order). The handlers compute nothing:
-- gopher-lua boxes the numbers arithmetic makes, which is not the send's
-- cost.
local tern = require "tern"
local S = {}

function S.inc() end

function S.done()
	return true
end

function S.run(target, k)
	local send = tern.send
	for _ = 1, k do
		send(target, "inc")
	end
	return tern.call(target, "done")
end

-- idle(target, k) is run without the sends: gopher-lua boxes the loop's
-- counter, one allocation every 32 numbers.
function S.idle(target, k)
	local send = tern.send
	for _ = 1, k do
		local _ = send
	end
	return tern.call(target, "done")
end

return S
