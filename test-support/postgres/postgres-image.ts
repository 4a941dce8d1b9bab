import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { $ } from "zx";
import { docker } from "../docker-engine.js";

const CONTEXT = import.meta.dirname;

/** The build context's files, hashed: a change to the Dockerfile or the start script is a new tag. */
function contentTag(): string {
  const hash = createHash("sha256");
  for (const name of readdirSync(CONTEXT).filter((n) => !n.endsWith(".ts")).sort()) hash.update(name).update("\0").update(readFileSync(join(CONTEXT, name)));
  return `prosody-appliance-test-postgres:${hash.digest("hex").slice(0, 12)}`;
}

let building: Promise<string> | undefined;

/**
 * PostgreSQL 17 from Debian's package (no registry answers in CI), built once per content and
 * shared by every test file and the bench. Returns the image tag. The container takes
 * POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB like the official image, and extra `postgres`
 * arguments as its command (e.g. ["-c", "fsync=off"]).
 */
export function postgresImage(): Promise<string> {
  building ??= (async () => {
    const tag = contentTag();
    const present = await docker.getImage(tag).inspect().then(() => true, () => false);
    if (present) return tag;
    const build = await $({ nothrow: true, quiet: true })`docker build --tag ${tag} ${CONTEXT}`;
    if (build.exitCode !== 0) throw new Error(`building ${tag} from test-support/postgres failed:\n${`${build.stdout}\n${build.stderr}`.trim().split("\n").slice(-20).join("\n")}`);
    return tag;
  })();
  return building;
}
