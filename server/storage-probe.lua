#!/usr/bin/lua5.4
-- The entrypoint's window on an SQL database (XMPP_STORAGE=sqlite|postgres), through the same
-- LuaDBI drivers Prosody uses, so it connects exactly as Prosody will. Reads the connection
-- (Prosody's `sql` table, as a Lua literal) on stdin, never from argv, where the password
-- would be visible. Prints one line per fact; a failed connection prints "error <reason>", exit 2.
--   check               rows <n in Prosody's tables>, then "migration <id> <finished|started>" per row
--   begin <id> <source> records a migration from this volume as started (creates its table)
--   finish <id>         records it as finished
--   ping                "ok" once the database answers a query (the metrics' database gauge)
--   rows                per host, user and store with rows: "keyval|archive<TAB>host<TAB>user<TAB>store<TAB>n"
--                       (what a backup exports and what makes a restore target non-empty)
local DBI = require "DBI";

local command, id, source = arg[1], arg[2], arg[3];
local chunk = load("return " .. io.read("a"), "=stdin", "t", {});
local params = chunk and chunk();
if type(params) ~= "table" then
	io.stdout:write("error the connection on stdin is not a Lua table\n");
	os.exit(2);
end

local dbh, err = DBI.Connect(params.driver, params.database, params.username, params.password, params.host, params.port);
if not dbh then
	io.stdout:write("error ", (tostring(err):gsub("%s+", " "):gsub(" $", "")), "\n");
	os.exit(2);
end
dbh:autocommit(true);

local function query(sql, ...)
	local stmt = assert(dbh:prepare(sql));
	assert(stmt:execute(...));
	local rows = {};
	for row in stmt:rows(false) do rows[#rows + 1] = row; end
	stmt:close();
	return rows;
end

local function has_table(name)
	if params.driver == "SQLite3" then
		return #query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", name) > 0;
	end
	return #query("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?", name) > 0;
end

local MIGRATIONS = "appliance_migration";

if command == "check" then
	local rows = 0;
	for _, name in ipairs({ "prosody", "prosodyarchive" }) do
		if has_table(name) then rows = rows + tonumber(query('SELECT COUNT(*) FROM "' .. name .. '"')[1][1]); end
	end
	io.stdout:write("rows ", rows, "\n");
	if has_table(MIGRATIONS) then
		for _, row in ipairs(query('SELECT "id", "finished" FROM "' .. MIGRATIONS .. '" ORDER BY "started"')) do
			io.stdout:write("migration ", row[1], " ", row[2] and "finished" or "started", "\n");
		end
	end
elseif command == "begin" and id and source then
	query('CREATE TABLE IF NOT EXISTS "' .. MIGRATIONS .. '" ("id" TEXT PRIMARY KEY, "source" TEXT, "started" TEXT, "finished" TEXT)');
	query('DELETE FROM "' .. MIGRATIONS .. '" WHERE "id" = ?', id);
	query('INSERT INTO "' .. MIGRATIONS .. '" ("id", "source", "started") VALUES (?, ?, ?)', id, source, os.date("!%Y-%m-%dT%H:%M:%SZ"));
elseif command == "finish" and id then
	query('UPDATE "' .. MIGRATIONS .. '" SET "finished" = ? WHERE "id" = ?', os.date("!%Y-%m-%dT%H:%M:%SZ"), id);
elseif command == "ping" then
	query("SELECT 1");
	io.stdout:write("ok\n");
elseif command == "rows" then
	for kind, name in pairs({ keyval = "prosody", archive = "prosodyarchive" }) do
		if has_table(name) then
			for _, row in ipairs(query('SELECT "host", "user", "store", COUNT(*) FROM "' .. name .. '" GROUP BY "host", "user", "store"')) do
				io.stdout:write(kind, "\t", row[1] or "", "\t", row[2] or "", "\t", row[3] or "", "\t", row[4], "\n");
			end
		end
	end
else
	io.stderr:write("usage: appliance-storage-probe check | ping | rows | begin ID SOURCE | finish ID (connection on stdin)\n");
	os.exit(64);
end
dbh:close();
