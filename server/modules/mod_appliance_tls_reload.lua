-- Makes a config reload (SIGHUP) change the certificate on every listener.
--
-- In Prosody 13.0.1, and still in 13.0.6 from trixie-backports, net/server_epoll's
-- interface:set_sslctx() stores a listener's new TLS context in a field nothing reads, so
-- after a reload, direct-TLS clients that send no SNI keep getting the old certificate (SNI
-- clients and STARTTLS get the new one). The entrypoint relies on SIGHUP after a certificate
-- renewal; this makes set_sslctx() replace the context that accept() uses. portmanager then
-- registers the SNI hosts on that new context.
module:set_global();

local portmanager = require "core.portmanager";

local function patch(listener)
	local mt = getmetatable(listener);
	local interface = mt and mt.__index;
	if type(interface) ~= "table" or type(interface.set_sslctx) ~= "function" then
		return false;
	end
	if interface.appliance_set_sslctx_patched then return true; end
	function interface:set_sslctx(sslctx)
		self._sslctx = sslctx;
		self.tls_ctx = sslctx;
	end
	interface.appliance_set_sslctx_patched = true;
	return true;
end

local function patch_any_listener()
	for _, _, _, _, active in portmanager.get_active_services():iter(nil, nil, nil, nil) do
		if active.server and patch(active.server) then
			module:log("debug", "listener TLS contexts will follow config reloads");
			return true;
		end
	end
	return false;
end

-- Listeners open before this module loads on a normal start; if not, try at the first reload.
if not patch_any_listener() then
	module:hook_global("reloading-config", patch_any_listener, 1000);
	module:hook_global("server-started", patch_any_listener);
end
