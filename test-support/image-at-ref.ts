import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { $ } from "zx";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const VERSION_LABEL = "org.opencontainers.image.version";

/**
 * The image of an earlier commit: `prosody-appliance:ref-<commit>`, built once from
 * `git archive <ref>` with this checkout's .ci/build-image.sh (so the npm proxy's CA reaches
 * that build's builder stage too), and reused while its version label names the commit.
 * Never touches :latest or a tag someone is working with.
 */
export async function imageAtRef(ref: string, options: { logPath?: string } = {}): Promise<{ image: string; commit: string; built: boolean }> {
  const git = $({ cwd: REPO_ROOT, quiet: true });
  const resolved = await git({ nothrow: true })`git rev-parse --verify --short=12 ${`${ref}^{commit}`}`;
  if (resolved.exitCode !== 0) throw new Error(`git ref ${JSON.stringify(ref)} names no commit in ${REPO_ROOT}: ${resolved.stderr.trim()}`);
  const commit = resolved.stdout.trim();
  const image = `prosody-appliance:ref-${commit}`;

  const existing = await $({ quiet: true, nothrow: true })`docker image inspect --format ${`{{index .Config.Labels "${VERSION_LABEL}"}}`} ${image}`;
  if (existing.exitCode === 0 && existing.stdout.trim() === commit) return { image, commit, built: false };

  const dir = mkdtempSync(join(tmpdir(), `prosody-appliance-${commit}-`));
  try {
    await $({ quiet: true })`git -C ${REPO_ROOT} archive --format=tar ${commit} | tar -x -C ${dir}`;
    cpSync(join(REPO_ROOT, ".ci/build-image.sh"), join(dir, ".ci/build-image.sh"));
    const build = await $({ cwd: dir, env: { ...process.env, IMAGE: image }, nothrow: true, quiet: true })`bash .ci/build-image.sh --build-arg VERSION=${commit}`;
    if (options.logPath) writeFileSync(options.logPath, `${build.stdout}\n${build.stderr}`);
    if (build.exitCode !== 0) {
      const tail = `${build.stdout}\n${build.stderr}`.trim().split("\n").slice(-30).join("\n");
      throw new Error(`building ${image} from ${ref} failed (exit ${build.exitCode}); last lines:\n${tail}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { image, commit, built: true };
}
