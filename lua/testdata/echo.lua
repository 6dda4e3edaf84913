-- echo: answers with what it gets; fails on demand.
local tern = require "tern"
local S = {}

function S.echo(...)
	return ...
end

function S.add(a, b)
	return a + b
end

function S.boom(msg)
	error(msg or "kaboom")
end

function S.exit()
	tern.exit()
end

function S.hold(ms)
	tern.log("holding")
	tern.sleep(ms)
	return "held"
end

return S
