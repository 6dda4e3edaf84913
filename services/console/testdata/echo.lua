-- echo: the console tests' service.
local tern = require "tern"
local S = {}
function S.echo(...) return ... end
function S.add(a, b) return a + b end
function S.fail(msg) error(msg or "failed on purpose") end
function S.multi() return 1, "two\nlines", {1, 2, x = 3} end
return S
