-- prosodyctl mod_appliance_accounts: creates the entrypoint's first-run accounts with the server
-- stopped. Reads "JID<TAB>PASSWORD" lines on stdin (never the command line, which other
-- processes can read). An account that exists is left exactly as it is.
-- Prints one line per account: "created JID", "exists JID" or "failed JID REASON".
local prosodyctl = require "prosody.util.prosodyctl";
local jid = require "prosody.util.jid";

function module.command()
	local status = 0;
	for line in io.stdin:lines() do
		local address, password = line:match("^([^\t]+)\t(.+)$");
		local user, host = jid.prepped_split(address or "");
		if not (user and host and password) then
			print("failed "..tostring(address).." not a JID and password");
			status = 1;
		elseif not prosody.hosts[host] then
			print("failed "..address.." no VirtualHost "..host);
			status = 1;
		elseif prosodyctl.user_exists { user = user, host = host } then
			print("exists "..address);
		else
			local ok, err = prosodyctl.adduser { user = user, host = host, password = password };
			if ok then
				print("created "..address);
			else
				print("failed "..address.." "..tostring(err));
				status = 1;
			end
		end
	end
	return status;
end
