#!/usr/bin/lua5.4
-- Docker HEALTHCHECK: asks mod_appliance_health on the loopback HTTP port. Lua (already in the
-- image for Prosody) starts in a few milliseconds, where Node would take ~100 ms and 50 MB.
local socket = require "socket";

local conn = socket.tcp();
conn:settimeout(4);
local ok, err = conn:connect("127.0.0.1", 5280);
if not ok then
	io.stderr:write("unhealthy: Prosody's HTTP port 127.0.0.1:5280 does not answer (", tostring(err), ")\n");
	os.exit(1);
end
conn:send("GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n");
local status_line = conn:receive("*l") or "";
local body = conn:receive("*a") or "";
conn:close();
if status_line:match("^HTTP/1%.%d 200") then
	os.exit(0);
end
local reason = (body:match("\r\n\r\n(.*)$") or ""):gsub("%s+$", "");
io.stderr:write("unhealthy: ", status_line, " ", reason, "\n");
os.exit(1);
