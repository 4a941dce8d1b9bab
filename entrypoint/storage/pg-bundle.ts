// The entry of dist/pg.cjs (package.json's build): node-postgres on its own, which the entrypoint
// loads only when the storage is PostgreSQL (database-probe.ts's loadPg says why).
import pg from "pg";

export default pg;
