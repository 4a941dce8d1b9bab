import { spawn } from "node:child_process";
import { PROSODY_USER } from "./paths.js";
import { switchUser } from "./identity.js";

export interface CommandResult {
  exitCode: number;
  stdout: string;
  /** stdout and stderr as they came. */
  output: string;
}

/**
 * Runs a command as the prosody user (without root: as this process) with no other group and a clean environment, secrets on
 * standard input (a command line is visible to every process), and collects what it prints.
 */
export function runAsProsody(command: readonly string[], input = ""): Promise<CommandResult> {
  // What it creates in the volume (the SQLite database) gets no world access, like Prosody's files.
  process.umask(0o027);
  const child = spawn(
    "setpriv",
    [...switchUser(PROSODY_USER, "none"), "--reset-env", "--", ...command],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stdout = "";
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
    output += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stdin.on("error", () => undefined); // a command that exits without reading its input
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ exitCode: code ?? 1, stdout, output }));
  });
}
