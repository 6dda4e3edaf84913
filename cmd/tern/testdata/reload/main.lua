-- Reload under load: one service sends 100,000 numbered messages to a
-- counter while another reloads the counter 20 times. The counter must
-- end with all of them, in order, at the same address.
local tern = require "tern"
local n, k = 100000, 20
local counter = tern.newservice("counter")
local sender, reloader = tern.newservice("sender"), tern.newservice("reloader")
local done, me = 0, {}
tern.fork(function()
	tern.call(sender, "run", counter, n)
	done = done + 1
	tern.wakeup(me)
end)
tern.fork(function()
	tern.call(reloader, "run", counter, k)
	done = done + 1
	tern.wakeup(me)
end)
while done < 2 do
	tern.wait(me)
end
local count, last, bad, addr = tern.call(counter, "get")
print(string.format("RELOAD count=%d last=%d bad=%d same_addr=%s reloads=%d", count, last, bad, tostring(addr == counter), k))
tern.shutdown(count == n and last == n and bad == 0 and addr == counter and 0 or 1)
