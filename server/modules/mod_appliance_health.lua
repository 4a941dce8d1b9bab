-- GET /health on the loopback HTTP port, for Docker's HEALTHCHECK. Probing XMPP ports
-- instead would log a connect/disconnect pair every 30 s; HTTP requests log only at debug.
-- 200 when this host is active and client connections are being accepted, 503 otherwise.
local portmanager = require "core.portmanager";

module:depends("http");

local function listening(service)
	for _ in portmanager.get_active_services():iter(service, nil, nil, nil) do
		return true;
	end
	return false;
end

module:provides("http", {
	name = "health";
	route = {
		GET = function(event)
			-- Every HTTP route is served on every HTTP port: keep this one off the public 5281.
			if event.request.secure then return 404; end
			event.response.headers.content_type = "text/plain";
			event.response.headers.cache_control = "no-store";
			if not prosody.hosts[module.host] then
				event.response.status_code = 503;
				return "host not active\n";
			end
			if not (listening("c2s") and listening("c2s_direct_tls")) then
				event.response.status_code = 503;
				return "client ports not listening\n";
			end
			return "ok\n";
		end;
	};
});
