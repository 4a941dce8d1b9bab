-- Prosody starts with the collector server/prosody.cfg.lua gives it for the start (generational,
-- much cheaper while everything loads); once started, it gets Prosody's own default back, so
-- memory at rest is what Prosody is tuned for. A `gc` set by the user is left alone.
module:set_global();

local gc = require "prosody.util.gc";

-- Prosody 13's default, as util/startup.lua sets it when no `gc` is configured.
local prosody_default = { mode = "incremental", threshold = 105, speed = 500 };

local function restore_default()
	local start_gc = module:get_option("appliance_start_gc");
	if start_gc == nil or module:get_option("gc") ~= start_gc then return; end
	local ok, err = gc.configure({ mode = prosody_default.mode }, prosody_default);
	if not ok then
		module:log("error", "Could not restore Prosody's default garbage collector: %s", err);
		return;
	end
	module:log("debug", "Started: Prosody's default garbage collector restored");
end

if prosody.state == "running" then
	-- Loaded after the start (e.g. a module reload): nothing to wait for.
	restore_default();
else
	module:hook_global("server-started", restore_default);
end
