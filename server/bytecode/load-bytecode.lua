-- Run before Prosody (`lua5.4 -e 'dofile"…"' /usr/bin/prosody`): Prosody and its modules load
-- from bytecode compiled when the image was built, instead of compiling ~2.5 MB of Lua source at
-- every start (each module once per host that loads it): about a seventh of its start's CPU.
--
-- A compiled chunk is used only for the very source it was compiled from: its file is named by
-- the SHA-256 of the chunk name and the source text just read (bytecode-key.lua). Anything else
-- (the generated config, conf.d, a module you mount or edit) finds no file and compiles from
-- source as before.
-- Module metadata (`--%` lines) is still read from the source, which Prosody reads either way.
-- Without hashes.so or the cache, everything loads from source.
local here = "/usr/local/lib/prosody-appliance/bytecode/";
-- The plugin loader's lookups, made cheap while Prosody starts (plugin-lookup.lua says how).
dofile(here .. "plugin-lookup.lua");
local cache_dir = here .. "cache/";
local file_for = dofile(here .. "bytecode-key.lua");
if not file_for then return; end
local io_open, load, byte = io.open, load, string.byte;

-- What `prosodyctl shell` (and the image tests) can ask a running Prosody: how many chunks came
-- from bytecode, and which chunk names were compiled from source (how many times).
local stats = { from_bytecode = 0, from_source = {} };
package.loaded["appliance.bytecode"] = stats;

-- The compiled chunk for this source, or nil (counted as compiled from source). As with load(),
-- an env argument (even nil) becomes the chunk's _ENV; without one, the globals are.
local function compiled(chunkname, source, ...)
	local file = io_open(cache_dir .. file_for(chunkname, source), "rb");
	local chunk;
	if file then
		local bytecode = file:read("a");
		file:close();
		chunk = load(bytecode, chunkname, "b", ...);
	end
	if chunk then
		stats.from_bytecode = stats.from_bytecode + 1;
	else
		stats.from_source[chunkname] = (stats.from_source[chunkname] or 0) + 1;
	end
	return chunk;
end

-- require(): Lua's own file searcher, reading compiled code when there is some.
local lua_file_searcher = package.searchers[2];
package.searchers[2] = function(name)
	local path = package.searchpath(name, package.path);
	local file = path and io_open(path, "rb");
	if file then
		local source = file:read("a");
		file:close();
		local chunk = compiled("@" .. path, source);
		if chunk then return chunk, path; end
	end
	return lua_file_searcher(name);
end

-- Modules: Prosody's plugin loader reads each module's source and hands it to util.envload.
local envload = dofile("/usr/lib/prosody/util/envload.lua");
local envload_source = envload.envload;
function envload.envload(code, chunkname, env)
	if type(code) == "string" and type(chunkname) == "string" and byte(chunkname) == 64 then -- "@file"
		local chunk = compiled(chunkname, code, env);
		if chunk then return chunk; end
	end
	return envload_source(code, chunkname, env);
end
package.loaded["prosody.util.envload"] = envload;
