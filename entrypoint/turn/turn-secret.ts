import { randomBytes } from "node:crypto";
import { chownSync, openSync, readFileSync, writeSync, closeSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PATHS, PROSODY_USER } from "../paths.js";
import type { Settings } from "../settings.js";

export const TURN_SECRET_FILE = "turn-secret";

export interface TurnSecret {
  secret: string;
  /** Where it came from, for the log; never the value. */
  source: string;
}

/**
 * The shared secret Prosody derives TURN credentials from and the TURN server checks them with.
 * Given (XMPP_TURN_SECRET or its _FILE), or for the built-in server generated once and kept in
 * the data volume, so credentials handed out before a restart stay valid after it.
 */
export function turnSecret(settings: Settings, dataDir: string = PATHS.dataDir): TurnSecret | undefined {
  if (settings.turn === "off") return undefined;
  if (settings.turnSecret !== "") return { secret: settings.turnSecret, source: "from XMPP_TURN_SECRET" };
  const path = join(dataDir, TURN_SECRET_FILE);
  try {
    const kept = readFileSync(path, "utf8").trim();
    if (kept.length >= 16) return { secret: kept, source: `kept in ${path}` };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const secret = randomBytes(32).toString("base64url");
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, "w", 0o600);
  try {
    writeSync(fd, `${secret}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    chownSync(temporary, PROSODY_USER.uid, PROSODY_USER.gid);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return { secret, source: `generated and kept in ${path}` };
}
