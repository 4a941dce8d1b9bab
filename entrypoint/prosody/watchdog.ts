import { spawn, type ChildProcess } from "node:child_process";
import { log } from "../log.js";

export interface WatchdogOptions {
  /** Silence after which the entrypoint counts as stuck (then one more `graceS` to answer). */
  silenceS?: number;
  /** Time Prosody gets to stop on SIGTERM before the entrypoint is killed anyway. */
  stopS?: number;
  /** Between two heartbeats. */
  intervalMs?: number;
}

/**
 * The watchdog, in bash (a few MB, where a Node worker thread would add ~10 MB to the
 * entrypoint): it reads one line per heartbeat on stdin. After `silence` seconds without one it
 * waits one second more (a container frozen by `docker pause` answers at once when it thaws),
 * then stops Prosody with SIGTERM, waits until it has exited (a zombie of the stuck entrypoint,
 * or gone), up to `stop` seconds, and kills the entrypoint, its parent: tini then ends the
 * container (137). On end of input (the entrypoint stopped it, or exited) it does nothing.
 */
const WATCHDOG_SCRIPT = `
silence=$1 stop=$2 prosody=$3 entrypoint=$PPID
while :; do
  read -r -t "$silence" _; status=$?
  [ "$status" -eq 0 ] && continue
  [ "$status" -gt 128 ] || exit 0
  read -r -t 1 _; status=$?
  [ "$status" -eq 0 ] && continue
  [ "$status" -gt 128 ] || exit 0
  break
done
echo "appliance error the entrypoint's event loop has not answered for $((silence + 1)) s: stopping Prosody (pid $prosody) and ending the container" >&2
kill -TERM "$prosody" 2>/dev/null
deadline=$(( $(date +%s) + stop ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  state=$(sed 's/^.*) //' "/proc/$prosody/stat" 2>/dev/null | cut -c1)
  case "$state" in ""|Z|X) break ;; esac
  sleep 0.1
done
kill -KILL "$entrypoint"
`;

/**
 * Starts the watchdog for a running Prosody: with the event loop blocked, the entrypoint can
 * neither forward `docker stop`'s SIGTERM nor notice Prosody's exit, and Docker would SIGKILL
 * Prosody after 10 s. Returns a function that stops it (end of input, exit 0).
 */
export function watchEventLoop(prosodyPid: number, options: WatchdogOptions = {}): () => void {
  const { silenceS = 4, stopS = 4, intervalMs = 1_000 } = options;
  let stopped = false;
  let child: ChildProcess | undefined;
  const start = () => {
    const watchdog = spawn("bash", ["--norc", "--noprofile", "-c", WATCHDOG_SCRIPT, "appliance-watchdog", String(silenceS), String(stopS), String(prosodyPid)], {
      stdio: ["pipe", "inherit", "inherit"],
      // No startup file: BASH_ENV would name one, and bash reads ~/.bashrc when its stdin is a
      // socket (libuv's pipes are), taking it for a remote shell.
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    // A write after the watchdog's end is answered with EPIPE: its exit is handled below.
    watchdog.stdin!.on("error", () => undefined);
    watchdog.once("exit", (code, signal) => {
      if (stopped) return;
      log("warn", `the event-loop watchdog exited (${signal ? `signal ${signal}` : `status ${code}`}): starting it again`);
      child = undefined;
      setTimeout(() => !stopped && (child = start()), intervalMs).unref();
    });
    return watchdog;
  };
  child = start();
  const heartbeat = setInterval(() => child?.stdin?.write("\n"), intervalMs);
  heartbeat.unref();
  return () => {
    stopped = true;
    clearInterval(heartbeat);
    child?.stdin?.end();
  };
}
