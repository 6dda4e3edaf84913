-- echo: the callee of bench/call.lua, skynet's bench_echo.lua: echo(x)
-- answers x.
local S = {}

function S.echo(x)
	return x
end

return S
