/** Tests reach the server only through ports published on the loopback address. */
export const LOOPBACK = "127.0.0.1";
/** Limit for one exchange with the server when a caller gives none. */
export const DEFAULT_STEP_TIMEOUT_MS = 5_000;
