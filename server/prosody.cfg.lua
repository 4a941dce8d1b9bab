-- prosody-appliance base configuration (static part, from the image).
-- The entrypoint writes the parts that follow from XMPP_* variables (HTTPS,
-- registration, push and the group chat, upload and proxy components) into
-- /run/prosody-appliance/ at every start and certificate renewal. Your own settings go in
-- /etc/prosody/conf.d/*.cfg.lua (mount files there); they are read after the
-- generated globals, so they override them, and before the VirtualHosts.

data_path = "/var/lib/prosody"
plugin_paths = { "/usr/local/lib/prosody-appliance/prosody-modules" }

modules_enabled = {
	"disco"; "roster"; "saslauth"; "tls"; "dialback";
	"blocklist"; "bookmarks"; "carbons"; "pep"; "private"; "vcard4"; "vcard_legacy";
	"smacks"; "csi_simple"; "mam"; "ping"; "time"; "uptime"; "version";
	"limits"; "account_activity";
	"server_contact_info"; -- XEP-0157 addresses (contact_info, from XMPP_CONTACT_*)
	"s2s_bidi"; -- one connection both ways with servers that support it
	"external_services"; -- XEP-0215; lists nothing until STUN/TURN are configured
	"register"; -- with registration closed this only lets users change their password
	"admin_adhoc"; "admin_shell"; -- prosodyctl adduser/passwd/deluser and shell use the admin socket
	"http"; "appliance_health"; -- loopback-only health endpoint for Docker's HEALTHCHECK
	"appliance_tls_reload"; -- a reload (SIGHUP) changes the certificate on every listener
	"appliance_gc"; -- Prosody's own collector once started (see gc below)
}
modules_disabled = { "posix" } -- a stub in Prosody 13; tini and the entrypoint supervise

-- Secure by default: TLS on every connection, authenticated servers, closed registration.
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = true
allow_unencrypted_plain_auth = false
allow_registration = false
authentication = "internal_hashed"

c2s_ports = { 5222 }
c2s_direct_tls_ports = { 5223 }
s2s_ports = { 5269 }
http_ports = { 5280 }
http_interfaces = { "127.0.0.1" }
https_ports = { } -- 5281 with XMPP_HTTPS (generated)

limits = {
	c2s = { rate = "10kb/s" };
	s2sin = { rate = "30kb/s" };
}
archive_expires_after = "1w"

-- Prosody's start allocates a lot, and its default collector (incremental, a new cycle whenever
-- memory grows by 5%) runs over it again and again: about 40% of the start's CPU. Lua's
-- generational collector starts it in well under that; once started, mod_appliance_gc puts
-- Prosody's own default back. A `gc` of yours in conf.d replaces both.
local start_gc = { mode = "generational" }
gc = start_gc
appliance_start_gc = start_gc

Include "/run/prosody-appliance/global.cfg.lua"
Include "/etc/prosody/conf.d/*.cfg.lua"
Include "/run/prosody-appliance/hosts.cfg.lua"
