-- Prosody's early start. server/start-appliance runs this as the container starts, beside Node's
-- own start (~170 ms here), so that the part of Prosody's start that needs no configuration (two
-- execs, linking its C libraries, its first steps, the libraries below) is done, or under way,
-- by the time the entrypoint has written the configuration. Then it waits on standard input, a
-- pipe only the entrypoint can write to:
--
--   start                      go on as this process is (docker run --user: no root to drop)
--   start UID GID GID,GID,...  as root: become UID with exactly these groups, then go on
--   (end of input)             the entrypoint failed, or starts Prosody itself: exit 0, quietly
--
-- From there it is `prosody -F --config …`, as the entrypoint would have spawned it (with
-- setpriv --reset-env): nothing the user configures, conf.d included, is read before the line,
-- nor as root.
--
-- usage: lua5.4 -e 'dofile "…/load-bytecode.lua"' early-prosody.lua /usr/bin/prosody ARGS...
local script = arg[1];
local prosody_args = { [0] = script, table.unpack(arg, 2) };

-- Loaded before the line: C libraries and libraries that, when loaded, read neither the
-- configuration nor anything set from it (util.pluginloader, for one, reads CFG_PLUGINDIR, and
-- core.* read the configuration); Prosody requires each of them at every start. ~16 ms of CPU.
local PRELOAD = {
	"lfs", "lxp", "socket.core", "socket", "socket.url", "socket.unix",
	"ssl.core", "ssl.context", "ssl.x509", "ssl.config", "ssl", "lunbound",
	"prosody.util.pposix", "prosody.util.hex", "prosody.util.serialization", "prosody.util.format",
	"prosody.util.table", "prosody.util.stanza", "prosody.util.set", "prosody.util.gc",
	"prosody.util.bit53", "prosody.util.bitcompat", "prosody.util.hashes", "prosody.util.import",
	"prosody.util.indexedbheap", "prosody.util.queue", "prosody.util.dbuffer", "prosody.util.net",
	"prosody.util.sslconfig", "prosody.util.signal", "prosody.util.poll", "prosody.util.xmppstream",
	"prosody.util.jid", "prosody.util.array", "prosody.util.multitable", "prosody.util.openmetrics",
	"prosody.util.cache", "prosody.util.promise", "prosody.util.human.io", "prosody.util.filters",
	"prosody.util.session", "prosody.util.strbitop", "prosody.util.ip", "prosody.util.x509",
	"prosody.util.sasl.plain", "prosody.util.sasl.anonymous", "prosody.util.json",
	"prosody.util.sasl.oauthbearer", "prosody.util.uuid", "prosody.util.sasl.scram",
	"prosody.util.sasl.external", "prosody.util.sasl", "prosody.util.datetime", "prosody.util.helpers",
	"prosody.util.dnsregistry", "prosody.util.http", "prosody.util.roles", "prosody.util.dataforms",
	"prosody.util.caps", "prosody.util.adhoc", "prosody.util.rsm", "prosody.util.jsonpointer",
	"prosody.util.jsonschema", "prosody.util.human.units", "prosody.util.smqueue",
	"prosody.util.presence", "prosody.util.interpolation", "prosody.util.throttle", "prosody.util.xml",
	"prosody.util.struct", "prosody.util.pubsub", "prosody.util.crypto", "prosody.util.jwt",
	"prosody.net.http.parser", "prosody.net.http.codes", "prosody.net.http.errors",
	"prosody.net.websocket.frames",
};

local function fail(message)
	io.stderr:write("appliance error Prosody's early start: ", message, "\n");
	os.exit(1);
end

-- The Uid, Gid and Groups lines of /proc/self/status, read once.
local function identity_fields()
	local fields = {};
	for line in io.lines("/proc/self/status") do
		local name, value = line:match("^(%a+):%s*(.-)%s*$");
		if name == "Uid" or name == "Gid" or name == "Groups" then fields[name] = value; end
	end
	return fields;
end

local function sorted_ids(text)
	local ids = {};
	for id in text:gmatch("%d+") do ids[#ids + 1] = tonumber(id); end
	table.sort(ids);
	return table.concat(ids, ",");
end

-- The environment setpriv --reset-env gives an account other than root.
local function account_environment(uid)
	for line in io.lines("/etc/passwd") do
		local name, id, home, shell = line:match("^([^:]*):[^:]*:(%d+):%d+:[^:]*:([^:]*):([^:]*)$");
		if name and tonumber(id) == uid then
			return { HOME = home, USER = name, LOGNAME = name, SHELL = shell, PATH = "/usr/local/bin:/usr/bin" };
		end
	end
	fail(("uid %d is not in /etc/passwd"):format(uid));
end

-- As root: the account and exactly the groups the entrypoint named, checked once taken. Lua has
-- no setgroups(): initgroups() takes them from /etc/group, which the entrypoint has checked
-- gives these. Never root again: with no new privileges, nothing this runs can get it back.
local function become(pposix, uid, gid, groups)
	if uid == 0 or gid == 0 or (","..groups..","):find(",0,", 1, true) then
		fail(("refusing to run Prosody as root (uid %d, gid %d, groups %s)"):format(uid, gid, groups));
	end
	local env = account_environment(uid);
	local ok, err = pposix.setgid(gid);
	if ok then ok, err = pposix.initgroups(env.USER, gid); end
	if ok then ok, err = pposix.setuid(uid); end
	if not ok then fail(("could not become uid %d, gid %d: %s"):format(uid, gid, tostring(err))); end
	local fields = identity_fields();
	local uids, gids, have = fields.Uid, fields.Gid, sorted_ids(fields.Groups or "");
	if uids ~= ("%d\t%d\t%d\t%d"):format(uid, uid, uid, uid) or gids ~= ("%d\t%d\t%d\t%d"):format(gid, gid, gid, gid)
		or have ~= sorted_ids(groups) then
		fail(("runs as uid %s, gid %s, groups %s instead of uid %d, gid %d, groups %s"):format(uids, gids, have, uid, gid, groups));
	end
	-- TERM, the one variable --reset-env keeps, is kept as it is.
	for name, value in pairs(env) do pposix.setenv(name, value); end
end

-- Prosody's start calls read_config() before anything else that needs the configuration: the
-- wait goes there, after its own first steps (arguments, global state) and the preloading.
local original_require = require;
function require(name)
	local module = original_require(name);
	if name ~= "prosody.util.startup" then return module; end
	require = original_require;
	local read_config = module.read_config;
	function module.read_config(...)
		for _, library in ipairs(PRELOAD) do original_require(library); end
		local line = io.read("l");
		if not line then os.exit(0); end
		local uid, gid, groups = line:match("^start (%d+) (%d+) ([%d,]+)$");
		if uid then
			become(original_require("prosody.util.pposix"), tonumber(uid), tonumber(gid), groups);
		elseif line ~= "start" then
			fail(("unexpected line from the entrypoint: %q"):format(line));
		end
		return read_config(...);
	end
	return module;
end

arg = prosody_args;
dofile(script);
