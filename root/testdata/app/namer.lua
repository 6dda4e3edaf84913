-- namer: register, query and list from Lua.
local tern = require "tern"
local S = {}
function S.register(name) return pcall(tern.register, name) end
function S.query(name, ms) return pcall(tern.query, name, ms) end
function S.callname(name, cmd, ...) return pcall(tern.call, name, cmd, ...) end
function S.sendname(name, cmd, ...) tern.send(name, cmd, ...) end
function S.declare(name, script, ...) return tern.declare(name, script, ...) end
function S.unique(name, ...) return tern.uniqueservice(name, ...) end
function S.list() return tern.list() end
return S
