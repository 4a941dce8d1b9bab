import type { CertificateFiles } from "../certificates/check-certificate.js";
import { renderTurnServerConfig } from "../config/turn-server-config.js";
import type { Settings } from "../settings.js";
import { superviseTurnServer, type TurnServer } from "./start-turn-server.js";
import { systemAccount } from "./system-account.js";
import { turnServerFiles, writeTurnCertificate, writeTurnConfig } from "./turn-server-files.js";

/** The account Debian's coturn package creates; coturn runs as it and reads only its own files. */
export const TURN_ACCOUNT = "turnserver";

export interface BuiltinTurn extends TurnServer {
  /** The name whose certificate TURNS serves on 5349: the primary domain. */
  name: string;
  /** Gives coturn this pair to serve; it takes it on the next reloadCertificate(). */
  writeCertificate(files: CertificateFiles): void;
}

/** Writes coturn's config and certificate copy, then starts it under supervision. */
export function startBuiltinTurn(settings: Settings, secret: string, certificate: CertificateFiles): BuiltinTurn {
  const account = systemAccount(TURN_ACCOUNT);
  const files = turnServerFiles();
  writeTurnCertificate(certificate, files, account);
  writeTurnConfig(renderTurnServerConfig({ settings, secret, certificate: files.certificate, pidFile: files.pidFile, userDb: files.userDb }), files, account);
  const server = superviseTurnServer({ account, config: files.config });
  return {
    ...server,
    name: settings.domains[0]!,
    writeCertificate: (source) => writeTurnCertificate(source, files, account),
  };
}
