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

/** sysexits(3) EX_UNAVAILABLE: a service the start needs is not there; a later restart may succeed. */
export const EX_UNAVAILABLE = 69;

/** Something outside the container (the database) did not come in time; the container exits 69. */
export class UnavailableError extends Error {
  readonly exitCode = EX_UNAVAILABLE;
  constructor(message: string) {
    super(message);
    this.name = "UnavailableError";
  }
}
