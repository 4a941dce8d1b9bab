-- Serves the bundled Converse.js web client on the HTTPS listener, locked to this host, with
-- the security headers a static web app should send. The entrypoint gives the settings
-- (appliance_web_client) and the Content-Security-Policy (appliance_web_client_csp).
module:depends("http");
local http_files = require "net.http.files";
local json = require "util.json";
local st = require "util.stanza";

local assets = "/usr/local/share/prosody-appliance/web-client";
local options = module:get_option("appliance_web_client", {});
-- No Strict-Transport-Security: it would bind every port of the domain's name to HTTPS, a
-- website on port 80 included, which is not this server's to decide.
local headers = {
	["Content-Security-Policy"] = module:get_option_string("appliance_web_client_csp", "default-src 'self'");
	["X-Content-Type-Options"] = "nosniff";
	["X-Frame-Options"] = "DENY";
	["Referrer-Policy"] = "no-referrer";
	["Cross-Origin-Opener-Policy"] = "same-origin";
	["Permissions-Policy"] = "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()";
};

if options.only_host and options.only_host ~= module.host then return; end

local converse_settings = {};
for key, value in pairs(options) do converse_settings[key] = value; end
converse_settings.only_host = nil;
converse_settings.locked_domain = module.host;
converse_settings.default_domain = module.host;
if options.muc_subdomain then
	converse_settings.muc_subdomain = nil;
	converse_settings.muc_domain = options.muc_subdomain .. "." .. module.host;
end

local template = assert(io.open(assets .. "/index.html")):read("*a");
local page = template:gsub("{(%w+)}", {
	host = st.xml_escape(module.host);
	settings = st.xml_escape(json.encode(converse_settings));
});

local function with_headers(event)
	for name, value in pairs(headers) do event.response.headers[name] = value; end
end

local serve_dist = http_files.serve({
	path = assets .. "/dist";
	mime_map = {
		js = "text/javascript"; css = "text/css"; json = "application/json"; wasm = "application/wasm";
		png = "image/png"; svg = "image/svg+xml"; ico = "image/x-icon"; ttf = "font/ttf";
		mp3 = "audio/mpeg"; ogg = "audio/ogg";
	};
});

module:provides("http", {
	default_path = "/";
	route = {
		["GET /"] = function (event)
			with_headers(event);
			event.response.headers["Content-Type"] = "text/html; charset=utf-8";
			event.response.headers["Cache-Control"] = "no-cache";
			return page;
		end;
		["GET /dist/*"] = function (event, path)
			with_headers(event);
			return serve_dist(event, path);
		end;
	};
});
