-- Run by load-bytecode.lua, before Prosody. While Prosody starts, its plugin loader
-- (util.pluginloader) is spared two costs that grow with every module loaded on every host:
--
-- * Failed opens. To find mod_x it tries six names in each plugin directory (custom_plugins,
--   the appliance's, Prosody's), ~2,200 failed open() calls per start, each a path lookup
--   through the image's layers. Here an open whose file is not in its directory's listing
--   fails without a system call; directories are listed once, when first needed.
-- * The metadata scan. Prosody's load filter (core.modulemanager) reads every module line by
--   line in Lua for `--%` metadata lines. A module with no "--%" anywhere has none: the filter
--   is given an empty text instead, which yields the same result (no metadata), without the scan.
--
-- Both hold only until "server-started": a module you add while Prosody runs (and then load
-- with prosodyctl shell) is found exactly as without this file. Outside the server process
-- (prosodyctl), nothing changes.
local io_open, find, pcall = io.open, string.find, pcall;

-- Directory path (with its trailing "/") -> set of its names, false when it does not exist,
-- or UNKNOWN when it could not be listed (then the real open answers, with its real error).
local UNKNOWN = {};
local listings;
-- The plugin directories themselves: a subdirectory is looked up in its parent's listing, but
-- no listing is read above these (/usr/lib and the like say nothing about plugins).
local roots = {};
local ENOENT, ENOTDIR = 2, 20;

local function listing(dir)
	local names = listings[dir];
	if names ~= nil then return names; end
	local parent, last = dir:match("^(.*/)([^/]+)/$");
	local up;
	if parent and not roots[dir] then up = listing(parent); end
	if up == false or (up and up ~= UNKNOWN and not up[last]) then
		names = false;
	else
		local lfs = require "lfs";
		local listed, iterate, state = pcall(lfs.dir, dir);
		if listed then
			names = {};
			for name in iterate, state do names[name] = true; end
		else
			local _, _, code = lfs.attributes(dir, "mode");
			if code == ENOENT or code == ENOTDIR then names = false; else names = UNKNOWN; end
		end
	end
	listings[dir] = names;
	return names;
end

local function plugin_open(path, mode)
	if listings and mode == nil and type(path) == "string" then
		local dir, name = path:match("^(.*/)([^/]+)$");
		local names = dir and listing(dir);
		if names == false or (names and names ~= UNKNOWN and not names[name]) then
			return nil, path .. ": No such file or directory", 2;
		end
	end
	return io_open(path, mode);
end

local function without_scan(filter)
	return function(path, content, ...)
		if not listings or type(content) ~= "string" or find(content, "--%", 1, true) then
			return filter(path, content, ...);
		end
		local filtered_path, filtered, metadata = filter(path, "", ...);
		if filtered == "" then filtered = content; end
		return filtered_path, filtered, metadata;
	end
end

package.preload["prosody.util.pluginloader"] = function(name)
	package.preload[name] = nil;
	local prosody = rawget(_G, "prosody");
	if type(prosody) ~= "table" or prosody.process_type ~= "prosody" or not prosody.events then
		return require(name);
	end
	-- pluginloader keeps io.open as it finds it when it loads (`local io_open = io.open`).
	require "prosody.util.envload";
	io.open = plugin_open;
	local loaded, pluginloader = pcall(require, name);
	io.open = io_open;
	if not loaded then error(pluginloader, 0); end
	listings = {};
	-- As pluginloader reads it: directories separated by package.config's path separator.
	local path_sep = package.config:sub(3, 3);
	for path in (CFG_PLUGINDIR or ""):gmatch("[^" .. path_sep .. "]+") do
		roots[(path .. "/"):gsub("/+", "/")] = true;
	end
	prosody.events.add_handler("server-started", function() listings = nil; end);
	local init = pluginloader.init;
	function pluginloader.init(options)
		if type(options) == "table" and type(options.load_filter_cb) == "function" then
			options.load_filter_cb = without_scan(options.load_filter_cb);
		end
		return init(options);
	end
	return pluginloader;
end
