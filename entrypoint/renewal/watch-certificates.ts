import type { FSWatcher } from "chokidar";
import { relative } from "node:path";
import { log } from "../log.js";

export interface WatchOptions {
  polling: boolean;
  /** Called for each file event, with a short description of it. */
  onEvent(description: string): void;
}

/**
 * Watches the certificate directory, following certbot's live/ links into archive/. Polling
 * is for bind mounts that deliver no inotify events (Docker Desktop, WSL2, NFS).
 */
export async function watchCertificates(dir: string, options: WatchOptions): Promise<FSWatcher> {
  // Imported here, after Prosody has started, to keep it off the path to a listening server.
  const { watch } = await import("chokidar");
  const watcher = watch(dir, {
    ignoreInitial: true,
    followSymlinks: true,
    depth: 4,
    usePolling: options.polling,
    interval: 1_000,
    binaryInterval: 1_000,
    // certbot's renewal config and account files change too, but never a certificate.
    ignored: (path: string) => /\/(accounts|renewal|renewal-hooks|csr|keys)(\/|$)/.test(path),
  });
  watcher.on("all", (event, path) => options.onEvent(`${event} ${relative(dir, path) || "."}`));
  watcher.on("error", (error) => log("warn", `watching ${dir}: ${(error as Error).message}`));
  return watcher;
}
