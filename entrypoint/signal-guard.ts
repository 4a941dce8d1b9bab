import { log } from "./log.js";

/**
 * Called first by main.ts's run() (at start, not when the startup snapshot is built). Without a listener, Node's
 * default for SIGHUP and SIGUSR2 is to end the entrypoint (exit 129, 140): a `docker kill -s HUP`
 * before certificates are watched, or after Prosody has exited, would stop the container. These
 * listeners stay for the life of the process and stand aside once a step listens too (the
 * renewal's SIGHUP, the forwarding to Prosody). SIGUSR1 is not here: in Node 20 a listener does
 * not stop it from opening the inspector; the image's `--inspect-port` to an address no
 * container has does (Dockerfile).
 */
const GUARDED_SIGNALS = ["SIGHUP", "SIGUSR2"] as const;

let hangupHeld = false;

export function guardSignals(): void {
  for (const signal of GUARDED_SIGNALS) {
    process.on(signal, () => {
      if (process.listenerCount(signal) > 1) return;
      if (signal === "SIGHUP") {
        // Docker reports the container healthy as soon as Prosody serves, before certificates are
        // watched: a reload asked for then is done once they are (takeHeldHangup), not dropped.
        hangupHeld = true;
        log("info", "SIGHUP held: certificates are checked and Prosody reloaded once the entrypoint watches them");
        return;
      }
      log("info", `${signal} ignored: the entrypoint is still starting, or stopping`);
    });
  }
}

/** Whether a SIGHUP arrived before the renewal listened for it (and forget it). */
export function takeHeldHangup(): boolean {
  const held = hangupHeld;
  hangupHeld = false;
  return held;
}
