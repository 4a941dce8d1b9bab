/** sysexits(3) EX_CONFIG: the configuration is wrong; restarting will not help. */
export const EX_CONFIG = 78;

/** A problem the user fixes in their settings or mounts; the container exits 78 before Prosody starts. */
export class ConfigError extends Error {
  readonly exitCode = EX_CONFIG;
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}
