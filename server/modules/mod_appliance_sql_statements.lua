-- Closes the prepared statements of an SQL connection Prosody drops, while that connection still
-- exists. LuaDBI 0.7.4 (PostgreSQL) gives each statement a bare pointer to its connection's
-- userdata, not a reference: when util.sql drops a broken connection (engine:transaction sets
-- conn = nil) it keeps the statements in engine.prepared until it connects again. A garbage
-- collection during the outage frees the connection; after reconnecting, the old statements are
-- collected and their __gc reads the freed connection: SIGSEGV in the first transactions once the
-- database is back. Anything allocating while the database is down (a metrics scrape) makes
-- that collection likely. A statement closed here has no result left, so its __gc does nothing.
module:set_global();

local sql = require "prosody.util.sql";

-- util.sql keeps its engine methods in one table, shared through the metatable of every engine.
local engine = getmetatable(sql:create_engine({ driver = "PostgreSQL", database = "" })).__index;

if not engine.appliance_statements_closed then
	local transaction = engine.transaction;
	engine.appliance_statements_closed = true;
	function engine:transaction(...)
		local conn, prepared = self.conn, self.prepared;
		local result = table.pack(transaction(self, ...));
		if conn and self.conn ~= conn and prepared then
			-- `conn` is still referenced here, so closing its statements reads a live connection.
			for query, statement in pairs(prepared) do
				local ok, err = pcall(statement.close, statement);
				if not ok then module:log("debug", "Closing a statement of a dropped connection failed (%s): %s", query, err); end
			end
			module:log("debug", "Closed the statements of a dropped SQL connection");
		end
		return table.unpack(result, 1, result.n);
	end
end
