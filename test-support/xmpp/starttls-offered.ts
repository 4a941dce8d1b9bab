import { connectTcp, offersStarttls, XmppWire } from "../../entrypoint/xmpp-wire.js";
import { DEFAULT_STEP_TIMEOUT_MS, LOOPBACK } from "./loopback.js";

export interface StreamProbeOptions {
  port: number;
  domain: string;
  /** Which stream to open. Default "c2s". */
  stream?: "c2s" | "s2s";
  timeoutMs?: number;
}

/**
 * Whether the server's first (plaintext) stream features advertise STARTTLS. A stream error
 * instead of features counts as "not offered": Prosody answers that way when it has no usable
 * TLS context and encryption is required ("No stream features to proceed with").
 */
export async function starttlsOffered(options: StreamProbeOptions): Promise<boolean> {
  const { port, domain, stream = "c2s", timeoutMs = DEFAULT_STEP_TIMEOUT_MS } = options;
  const wire = new XmppWire(await connectTcp(LOOPBACK, port, timeoutMs), `${LOOPBACK}:${port}`);
  try {
    return offersStarttls(await wire.openStream(domain, stream, timeoutMs, { acceptStreamError: true }));
  } finally {
    wire.destroy();
  }
}
