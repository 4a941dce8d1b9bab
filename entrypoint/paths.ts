/** Fixed locations inside the image; the Dockerfile creates them with these owners. */
export const PATHS = {
  prosodyConfig: "/etc/prosody/prosody.cfg.lua",
  userConfigDir: "/etc/prosody/conf.d",
  generatedDir: "/run/prosody-appliance",
  generatedGlobal: "/run/prosody-appliance/global.cfg.lua",
  generatedHosts: "/run/prosody-appliance/hosts.cfg.lua",
  dataDir: "/var/lib/prosody",
  selfSignedDir: "/var/lib/prosody/self-signed",
  /** The first-run accounts already created or found: each is created at most once. */
  firstRunAccounts: "/var/lib/prosody/first-run-accounts",
  /** XMPP_STORAGE=sqlite: the database, in the data volume. */
  sqliteDatabase: "/var/lib/prosody/prosody.sqlite",
  /** The migration from the volume's files to SQL, once done (or under way: `.pending`). */
  storageMigrated: "/var/lib/prosody/storage-migrated",
  /** Run by Lua before Prosody: it loads Prosody's code from bytecode compiled in the image. */
  bytecodeLoader: "/usr/local/lib/prosody-appliance/bytecode/load-bytecode.lua",
  /** Prosody's early start (server/early-prosody.lua), run by server/start-appliance. */
  earlyProsody: "/usr/local/lib/prosody-appliance/early-prosody.lua",
} as const;

/** The account Prosody runs as; fixed in the Dockerfile so volume ownership is stable. */
export const PROSODY_USER = { name: "prosody", uid: 101, gid: 101 } as const;
