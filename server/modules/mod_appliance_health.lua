-- GET /health on the loopback HTTP port, for Docker's HEALTHCHECK and the entrypoint's "wait for
-- Prosody" step. Probing XMPP ports instead would log a connect/disconnect pair every 30 s; HTTP
-- requests log only at debug.
-- 200 once Prosody has fully started (server-started fired), every configured host is active and
-- every registered network service with configured ports listens on all of them; 503 otherwise.
-- Before server-started, listeners can be open while TLS contexts and hosts are still being set up.
local portmanager = require "core.portmanager";
local config = require "core.configmanager";

module:depends("http");

-- The ports a service is configured for, as portmanager.activate() works them out.
local function configured_ports(name, info)
	local prefix = (info.config_prefix or name) .. "_";
	if prefix == "_" then prefix = ""; end
	local ports = config.get("*", prefix .. "ports") or info.default_ports or { info.default_port or info.listener.default_port };
	if type(ports) ~= "table" then ports = { ports }; end
	return ports;
end

local function listening(name, port)
	for _ in portmanager.get_active_services():iter(name, nil, tonumber(port), nil) do
		return true;
	end
	return false;
end

-- What is not ready yet, or nil when everything is.
local function not_ready()
	if prosody.state ~= "running" then
		return "Prosody is still starting (" .. tostring(prosody.state) .. ")";
	end
	for host, host_config in pairs(config.getconfig()) do
		if host ~= "*" and host_config.enabled ~= false and not prosody.hosts[host] then
			return "host " .. host .. " not active";
		end
	end
	for name, registered in pairs(portmanager.get_registered_services()) do
		local info = registered[1];
		if info and info.listener then
			for _, port in ipairs(configured_ports(name, info)) do
				if not listening(name, port) then
					return name .. " not listening on port " .. tostring(port);
				end
			end
		end
	end
	return nil;
end

module:provides("http", {
	name = "health";
	route = {
		GET = function(event)
			-- Every HTTP route is served on every HTTP port: keep this one off the public 5281.
			if event.request.secure then return 404; end
			event.response.headers.content_type = "text/plain";
			event.response.headers.cache_control = "no-store";
			local missing = not_ready();
			if missing then
				event.response.status_code = 503;
				return missing .. "\n";
			end
			return "ok\n";
		end;
	};
});
