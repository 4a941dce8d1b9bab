#!/usr/bin/lua5.4
-- Run once when the image is built: compiles every Lua file named on stdin (Prosody's own code,
-- its Lua libraries, the appliance's modules) into OUTDIR, one file per source, named by the
-- SHA-256 of the chunk name and the source (load-bytecode.lua says why). Debug information is
-- kept: tracebacks name the same files and lines as from source.
local outdir = arg[1];
if not outdir then
	io.stderr:write("usage: compile-bytecode.lua OUTDIR < list of .lua files\n");
	os.exit(2);
end
local file_for = assert(dofile((arg[0]:match("^(.*)/") or ".") .. "/bytecode-key.lua"), "hashes.so cannot be loaded");

local compiled, skipped = 0, 0;
for path in io.lines() do
	local file = assert(io.open(path, "rb"));
	local source = file:read("a");
	file:close();
	local chunkname = "@" .. path;
	-- Text only, as Prosody loads it: a file that is not plain Lua source stays uncached.
	local chunk = load(source, chunkname, "t");
	if chunk then
		local out = assert(io.open(outdir .. "/" .. file_for(chunkname, source), "wb"));
		assert(out:write(string.dump(chunk)));
		assert(out:close());
		compiled = compiled + 1;
	else
		skipped = skipped + 1;
	end
end
print(("%d Lua files compiled, %d skipped (not loadable as Lua source)"):format(compiled, skipped));
