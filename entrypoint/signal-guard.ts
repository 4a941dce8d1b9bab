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

export function guardSignals(): void {
  for (const signal of GUARDED_SIGNALS) {
    process.on(signal, () => {
      if (process.listenerCount(signal) > 1) return;
      log("info", `${signal} ignored: the entrypoint is still starting, or stopping`);
    });
  }
}
