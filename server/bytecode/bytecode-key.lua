-- The one definition of a compiled chunk's file name, for compile-bytecode.lua (build) and
-- load-bytecode.lua (start): the SHA-256 of the chunk name and the source text. Returns nil
-- where Prosody's hashes.so cannot be loaded.
local open_hashes = package.loadlib("/usr/lib/prosody/util/hashes.so", "luaopen_prosody_util_hashes");
if not open_hashes then return nil; end
local sha256 = open_hashes().sha256;
return function(chunkname, source)
	return sha256(chunkname .. "\0" .. source, true) .. ".luac";
end
