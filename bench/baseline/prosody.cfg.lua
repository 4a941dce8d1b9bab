-- Benchmark baseline: what an administrator would write by hand for one domain, example.org,
-- with a certbot tree mounted at /etc/letsencrypt. It is equivalent to what the appliance runs
-- (server/prosody.cfg.lua plus the entrypoint's generated files for XMPP_DOMAINS=example.org),
-- so the benchmark compares the entrypoint's cost, not a different Prosody setup. Only the
-- appliance's reload fix (appliance_tls_reload) is left out: the baseline renews by restarting.
-- bench/baseline-config.test.ts fails when a setting shared with server/prosody.cfg.lua drifts.
-- Started as: prosody -F --config /etc/prosody/baseline.cfg.lua (user prosody, no entrypoint).

data_path = "/var/lib/prosody"
plugin_paths = { "/usr/local/lib/prosody-appliance/prosody-modules" }

modules_enabled = {
	"disco"; "roster"; "saslauth"; "tls"; "dialback";
	"blocklist"; "bookmarks"; "carbons"; "pep"; "private"; "vcard4"; "vcard_legacy";
	"smacks"; "csi_simple"; "mam"; "ping"; "time"; "uptime"; "version";
	"limits"; "account_activity";
	"server_contact_info"; "s2s_bidi"; "external_services";
	"register";
	"admin_adhoc"; "admin_shell";
	"http"; "appliance_health"; -- keeps the image's HEALTHCHECK answering, as in the appliance
	"appliance_gc"; -- the image's start-time collector, so the ratio shows only the entrypoint's cost
}
modules_disabled = { "posix" }

c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = true
allow_unencrypted_plain_auth = false
allow_registration = false
authentication = "internal_hashed"
tls_profile = "intermediate"

c2s_ports = { 5222 }
c2s_direct_tls_ports = { 5223 }
s2s_ports = { 5269 }
http_ports = { 5280 }
http_interfaces = { "127.0.0.1" }
https_ports = { }

limits = {
	c2s = { rate = "10kb/s" };
	s2sin = { rate = "30kb/s" };
}
archive_expires_after = "1w"

local start_gc = { mode = "generational" }
gc = start_gc
appliance_start_gc = start_gc

log = { { levels = { min = "info" }, to = "console" } }
admins = { }
use_ipv6 = true
interfaces = { "*", "::" }
http_default_host = "example.org"

-- The certificate clients get without SNI, and the host's own: certbot's live/ links.
ssl = {
	certificate = "/etc/letsencrypt/live/example.org/fullchain.pem";
	key = "/etc/letsencrypt/live/example.org/privkey.pem";
}

VirtualHost "example.org"
	ssl = {
		certificate = "/etc/letsencrypt/live/example.org/fullchain.pem";
		key = "/etc/letsencrypt/live/example.org/privkey.pem";
	}
