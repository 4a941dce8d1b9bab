import type Docker from "dockerode";

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Splits Docker's multiplexed (non-TTY) stream format into stdout and stderr. */
function demultiplex(buffer: Buffer): { stdout: string; stderr: string; all: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const all: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const kind = buffer[offset];
    const size = buffer.readUInt32BE(offset + 4);
    const chunk = buffer.subarray(offset + 8, offset + 8 + size);
    (kind === 2 ? err : out).push(chunk);
    all.push(chunk);
    offset += 8 + size;
  }
  return {
    stdout: Buffer.concat(out).toString("utf8"),
    stderr: Buffer.concat(err).toString("utf8"),
    all: Buffer.concat(all).toString("utf8"),
  };
}

export async function containerLogs(container: Docker.Container): Promise<string> {
  return (await containerStreams(container)).all;
}

/**
 * The container's output so far, each stream apart too: Docker reads stdout and stderr from two
 * pipes, so a line on one may come before a line written earlier on the other in `all`.
 */
export async function containerStreams(container: Docker.Container): Promise<{ stdout: string; stderr: string; all: string }> {
  const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  return demultiplex(raw);
}

export async function execIn(
  container: Docker.Container,
  command: string[],
  options: { stdin?: string; user?: string } = {},
): Promise<ExecResult> {
  const exec = await container.exec({
    Cmd: command,
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: options.stdin !== undefined,
    User: options.user ?? "",
  });
  const stream = await exec.start({ hijack: true, stdin: options.stdin !== undefined });
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  if (options.stdin !== undefined) {
    stream.write(options.stdin);
    // Half-close so the command sees end of input.
    (stream as unknown as { end(): void }).end();
  }
  await new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", reject);
  });
  const { stdout, stderr } = demultiplex(Buffer.concat(chunks));
  const inspected = await exec.inspect();
  return { exitCode: inspected.ExitCode ?? -1, stdout, stderr };
}
