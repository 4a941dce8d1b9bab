import type { CertificateFiles } from "../certificates/check-certificate.js";
import { builtinTurnsOffered, renderTurnServerConfig } from "../config/turn-server-config.js";
import { log } from "../log.js";
import { TURN_PORT, TURNS_PORT, type Settings } from "../settings.js";
import { superviseTurnServer, type TurnServer } from "./start-turn-server.js";
import { systemAccount } from "./system-account.js";
import { turnServerFiles, writeTurnCertificate, writeTurnConfig } from "./turn-server-files.js";
import { waitUntilListening } from "./wait-until-listening.js";

/** The account Debian's coturn package creates; coturn runs as it and reads only its own files. */
export const TURN_ACCOUNT = "turnserver";

export interface BuiltinTurn extends TurnServer {
  /** The name whose certificate TURNS serves on 5349: the primary domain. */
  name: string;
  /** Gives coturn this pair to serve; it takes it on the next reloadCertificate(). */
  writeCertificate(files: CertificateFiles): void;
}

/** How long the start waits for coturn's TCP listeners before it goes on without them. */
const LISTEN_WAIT_MS = 10_000;

/**
 * Writes coturn's config and certificate copy, starts it under supervision and waits until it
 * listens: the start is done (and a client told about TURNS can reach it) only then.
 */
export async function startBuiltinTurn(settings: Settings, secret: string, certificate: CertificateFiles): Promise<BuiltinTurn> {
  const account = systemAccount(TURN_ACCOUNT);
  const files = turnServerFiles();
  writeTurnCertificate(certificate, files, account);
  writeTurnConfig(renderTurnServerConfig({ settings, secret, certificate: files.certificate, pidFile: files.pidFile, userDb: files.userDb }), files, account);
  const server = superviseTurnServer({ account, config: files.config });
  const ports = [TURN_PORT, ...(builtinTurnsOffered(settings) ? [TURNS_PORT] : [])];
  if (!(await waitUntilListening(ports, { timeoutMs: LISTEN_WAIT_MS, running: () => server.pid() !== undefined }))) {
    const where = ports.map((port) => `${port}/tcp`).join(" and ");
    log("warn", `the TURN server is not listening on ${where} yet (${LISTEN_WAIT_MS / 1000} s after it started, or it exited): it stays supervised and is restarted if it exits`);
  }
  return {
    ...server,
    name: settings.domains[0]!,
    writeCertificate: (source) => writeTurnCertificate(source, files, account),
  };
}
