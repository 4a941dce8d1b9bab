import { spawn } from "node:child_process";

export interface ShellResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one line with `sh -c`, as a user types it (redirections included), asynchronously so
 * XMPP sessions held by the test keep running meanwhile. Never throws on a non-zero status.
 */
export function shellCommand(line: string, options: { cwd?: string; timeoutMs?: number } = {}): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", line], { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`\`${line}\` did not finish within ${options.timeoutMs ?? 60_000} ms; it printed: ${stdout}${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
