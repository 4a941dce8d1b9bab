import { ConfigError } from "../errors.js";
import { describeSql, sqlConnection } from "../config/storage-config.js";
import { loadSettings } from "../settings.js";
import { DatabaseUnreachable, storeRows } from "./database-probe.js";
import { exportSql, firstRunJids, importSql, userDataRows } from "./sql-backup.js";

/**
 * appliance-backup's and appliance-restore's window on an SQL database (server/backup/): the
 * connection from the container's own XMPP_* settings (the password from its _FILE), never from
 * argv. `node appliance-sql-data.cjs NAME COMMAND [DIR]`, NAME prefixing every message:
 *   user-data    one line per host, user and store holding a user's data (nothing: empty)
 *   export DIR   every store, in Prosody's file format, into DIR (owned by prosody)
 *   import DIR   every store under DIR (Prosody's file format) into the database
 * Exit 0 done, 69 the database unreachable, 78 the settings wrong, 70 anything else.
 */
async function sqlDataCommand(name: string, args: readonly string[]): Promise<number> {
  const sql = sqlConnection(loadSettings(process.env));
  if (!sql) throw new ConfigError([`XMPP_STORAGE=${process.env.XMPP_STORAGE ?? "internal"} is not an SQL storage`]);
  const [command, dir] = args;
  if (command === "user-data" && dir === undefined) {
    const rows = userDataRows(await storeRows(sql), firstRunJids()).sort((a, b) => `${a.host} ${a.user} ${a.store}`.localeCompare(`${b.host} ${b.user} ${b.store}`));
    for (const row of rows) process.stdout.write(`${row.store} of ${row.user === "" ? "" : `${row.user}@`}${row.host}: ${row.rows} rows\n`);
    return 0;
  }
  if (command === "export" && dir !== undefined) {
    const stores = await exportSql(sql, dir);
    process.stderr.write(`${name}: ${stores} stores exported from ${describeSql(sql)} (prosody-migrator)\n`);
    return 0;
  }
  if (command === "import" && dir !== undefined) {
    const stores = await importSql(sql, dir);
    process.stderr.write(`${name}: ${stores} stores imported into ${describeSql(sql)} (prosody-migrator)\n`);
    return 0;
  }
  process.stderr.write(`usage: ${name} user-data | export DIR | import DIR\n`);
  return 64;
}

const [name = "appliance-sql-data", ...args] = process.argv.slice(2);
sqlDataCommand(name, args).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`${name}: ${problem}\n`);
      process.exit(78);
    }
    if (error instanceof DatabaseUnreachable) {
      process.stderr.write(`${name}: the database does not answer: ${error.message}\n`);
      process.exit(69);
    }
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(70);
  },
);
