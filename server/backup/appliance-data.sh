# Shared by appliance-backup and appliance-restore (sourced, not run).
#
# What a backup holds: every host directory of the data volume (accounts, rosters, offline
# messages, archives, rooms, PEP, vCards, invites ... in Prosody's own file format) and the
# uploaded files (http_file_share/). What it leaves out, because a new server makes its own:
# the TURN secret (turn-secret), the list of first-run accounts already handled
# (first-run-accounts), self-signed certificates (self-signed/), Prosody's admin socket, and the
# data an earlier forced restore set aside (replaced-by-restore-*/). Links, sockets and devices
# are never followed or stored.
DATA_DIR=/var/lib/prosody
BACKUP_FORMAT="prosody-appliance-backup/1"
PROSODY_UID=101
PROSODY_GID=101

# The storage the server is configured with. With sqlite or postgres the stores are read and
# written through prosody-migrator (appliance-sql-data.cjs, the connection from the container's
# XMPP_DB_* settings); the archive holds them in Prosody's file format whatever the storage.
storage_kind() {
	kind="${XMPP_STORAGE:-internal}"
	case "$kind" in
		internal|sqlite|postgres) echo "$kind" ;;
		*) echo "$1: XMPP_STORAGE=$kind is not a storage this server can run with (accepted: internal, sqlite, postgres)" >&2; exit 78 ;;
	esac
}
sql_data() { node /usr/local/lib/prosody-appliance/appliance-sql-data.cjs "$@"; }

# prosody_dir WORK DIR: DIR (under the work directory WORK) prosody's own, and the directories
# from WORK down to it open to the prosody group, for prosody-migrator to read or write it.
prosody_dir() {
	mkdir -p "$2" && chown -R "$PROSODY_UID:$PROSODY_GID" "$2"
	up=$(dirname "$2")
	while [ "${#up}" -ge "${#1}" ]; do chgrp "$PROSODY_GID" "$up" && chmod g+rx "$up"; up=$(dirname "$up"); done
}

# Top-level entries of the data volume that a backup holds, one per line (relative names).
backed_up_entries() {
	find -P "$DATA_DIR" -mindepth 1 -maxdepth 1 -type d \
		! -name self-signed ! -name 'replaced-by-restore-*' ! -name 'lost+found' -printf '%f\n' | LC_ALL=C sort
}

# Files that hold a user's or a room's data, relative to the data volume, one per line. Left
# out: Prosody's bookkeeping (cron, upload_stats, accounts_cleanup) and the accounts the
# entrypoint created at first start (first-run-accounts), so a fresh server counts as empty.
user_data_files() {
	handled=""
	[ -f "$DATA_DIR/first-run-accounts" ] && [ ! -L "$DATA_DIR/first-run-accounts" ] && handled=$(grep -v '^#' "$DATA_DIR/first-run-accounts" || true)
	backed_up_entries | while IFS= read -r entry; do
		(cd "$DATA_DIR" && find -P "$entry" -type f -printf '%p\n')
	done | HANDLED="$handled" awk -F/ '
		# The name Prosody gives a user or host on disk: each byte but [A-Za-z0-9] as %xx.
		function encode(s,   out, i, c) {
			out = ""
			for (i = 1; i <= length(s); i++) {
				c = substr(s, i, 1)
				out = out (c ~ /[A-Za-z0-9]/ ? c : sprintf("%%%02x", ord[c]))
			}
			return out
		}
		BEGIN {
			for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i
			n = split(ENVIRON["HANDLED"], jids, "\n")
			for (i = 1; i <= n; i++) if ((at = index(jids[i], "@")) > 0) handled[encode(substr(jids[i], at + 1)) "/" encode(substr(jids[i], 1, at - 1))] = 1
		}
		$1 == "http_file_share" { print; next }
		NF == 2 { store = $2; sub(/\.(dat|list)$/, "", store); if (store == "cron" || store == "upload_stats") next; print; next }
		NF == 3 {
			if ($2 == "cron" || $2 == "accounts_cleanup") next
			user = $3; sub(/\.(dat|list)$/, "", user)
			if (($2 == "accounts" || $2 == "account_roles" || $2 == "account_details") && (($1 "/" user) in handled)) next
			print; next
		}
		{ print }'
}

# Per-store counts under a directory laid out like the data volume, as JSON members: users or
# rooms with data in each store (an archive's index file is not counted), and uploaded files.
store_counts() {
	(cd "$1" && find -P . -type f -printf '%P\n') | awk -F/ '
		$1 == "http_file_share" { c["http_file_share"]++; next }
		{ name = $NF; sub(/\.(dat|list|lidx)$/, "", name) }
		NF == 2 && !seen[$1 "/" name]++ { c[name]++ }
		NF == 3 && !seen[$1 "/" $2 "/" name]++ { c[$2]++ }
		END { for (s in c) printf "%s %d\n", s, c[s] }' | LC_ALL=C sort | awk '{ printf "%s\"%s\": %s", (NR > 1 ? ", " : ""), $1, $2 }'
}

# Names as Prosody writes them on disk (%xx for each byte but [A-Za-z0-9]) decoded, one a line.
decode_names() {
	awk '{
		out = ""
		for (i = 1; i <= length($0); i++) {
			c = substr($0, i, 1)
			if (c == "%" && i + 2 <= length($0)) {
				out = out sprintf("%c", 16 * (index("0123456789abcdef", substr($0, i + 1, 1)) - 1) + index("0123456789abcdef", substr($0, i + 2, 1)) - 1)
				i += 2
			} else out = out c
		}
		print out
	}'
}

# The pid of the Prosody server in this container, or nothing.
prosody_pid() {
	for p in /proc/[0-9]*; do
		case "$(tr '\0' ' ' 2>/dev/null < "$p/cmdline")" in
			*"/usr/bin/prosody -F "*) echo "${p#/proc/}"; return ;;
		esac
	done
}

# Prosody paused (SIGSTOP) while the data volume is read or written as one moment's data. A
# watchdog of its own resumes it after PAUSE_LIMIT seconds even if this command is killed
# (SIGKILL, OOM) before it can: a server never stays frozen.
PAUSE_LIMIT=300
pause_prosody() {
	[ -n "$1" ] || return 0
	kill -STOP "$1"
	(sleep "$PAUSE_LIMIT"; kill -CONT "$1") >/dev/null 2>&1 &
	watchdog=$!
}
resume_prosody() {
	[ -n "$1" ] || return 0
	kill -CONT "$1" 2>/dev/null || true
	[ -z "${watchdog:-}" ] || kill "$watchdog" 2>/dev/null || true
	watchdog=""
}

# Without root (docker run --user 101:101) this already is prosody, and only root may switch.
as_prosody() {
	if [ "$(id -u)" -eq 0 ]; then setpriv --reuid="$PROSODY_UID" --regid="$PROSODY_GID" --clear-groups -- "$@"; else "$@"; fi
}
