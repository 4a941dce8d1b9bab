import type { FSWatcher } from "chokidar";
import { relative, sep } from "node:path";
import { log } from "../log.js";

export interface WatchOptions {
  polling: boolean;
  /** Called for each file event, with a short description of it. */
  onEvent(description: string): void;
}

/**
 * certbot's renewal config and account files change too, but never a certificate; archive/
 * only gains files, and a renewal shows as its live/ links being re-pointed.
 */
const UNWATCHED = new Set(["accounts", "renewal", "renewal-hooks", "csr", "keys", "archive"]);

/**
 * Watches the certificate directory. Links are watched as links, never followed: certbot's
 * re-pointed live/ links are events in live/, and a link out of the mount (to /, to /proc) is
 * not crawled. Without archive/, watches stay one per live file however many renewals there
 * were. A Kubernetes Secret volume's update shows as its `..data` link renamed over. Polling is for bind mounts that deliver no inotify events (Docker Desktop, WSL2, NFS).
 */
export async function watchCertificates(dir: string, options: WatchOptions): Promise<FSWatcher> {
  // Imported here, after Prosody has started, to keep it off the path to a listening server.
  const { watch } = await import("chokidar");
  const watcher = watch(dir, {
    ignoreInitial: true,
    followSymlinks: false,
    // live/<lineage>/fullchain.pem is two levels down: nothing deeper is a certificate.
    depth: 2,
    usePolling: options.polling,
    interval: 1_000,
    binaryInterval: 1_000,
    ignored: (path: string) => relative(dir, path).split(sep).some((segment) => UNWATCHED.has(segment)),
  });
  watcher.on("all", (event, path) => options.onEvent(`${event} ${relative(dir, path) || "."}`));
  watcher.on("error", (error) => log("warn", `watching ${dir}: ${(error as Error).message}`));
  // Until its first scan is done a change goes unseen: "watch certificates" is logged once it is.
  await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return watcher;
}
