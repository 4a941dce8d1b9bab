-- The security headers of the invite and web registration pages (Debian prosody-modules'
-- invites_page and invites_register_web, which send none): added before their handlers run.
local headers = {
	-- Their templates load Bootstrap, jQuery and the QR code script from this server only.
	["Content-Security-Policy"] = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'";
	["X-Content-Type-Options"] = "nosniff";
	["X-Frame-Options"] = "DENY";
	-- The invite token is in the address: never sent to another site.
	["Referrer-Policy"] = "no-referrer";
	["Cache-Control"] = "no-store";
};

local function add_headers(event)
	for name, value in pairs(headers) do event.response.headers[name] = value; end
end

local server = require "net.http.server";
local paths = module:get_option("http_paths", {});
-- Where Prosody routes the pages (an XMPP_PUBLIC_URL's path is the reverse proxy's to strip).
local host = module:get_option_string("http_host", module.host);
for name, default_path in pairs({ invites_page = "/invites_page"; invites_register_web = "/register" }) do
	local path = paths[name] or default_path;
	for _, event in ipairs({ "GET "..host..path, "POST "..host..path, "GET "..host..path.."/setup/*" }) do
		module:hook_object_event(server, event, add_headers, 10);
	end
end
