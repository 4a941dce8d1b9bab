#!/usr/bin/env bash
# Makes a Docker engine answer, debian:trixie-slim exist and a compose client be there, on a
# fresh machine with no registry. Run by the image tests' setup and by `npm start` when no
# engine answers; also usable alone: `bash .ci/engine.sh`. Installing and starting anything
# needs root on Debian (apt-get); elsewhere it says what to do instead.
# When it starts the daemon and ENGINE_PID_FILE is set, it writes dockerd's pid there, so the
# caller can stop what it started.
set -euo pipefail

log() { printf '[engine] %s\n' "$*" >&2; }

can_set_up() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
cannot_set_up() {
  log "$1: this script sets it up only as root on Debian (apt-get)."
  log "Install Docker (https://docs.docker.com/engine/install/), start it so that \`docker info\` answers, then run this again."
  exit 1
}

ensure_engine() {
  if docker info >/dev/null 2>&1; then log "docker engine answers"; return; fi
  can_set_up || cannot_set_up "no Docker engine answers"
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing docker.io (Debian)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  log "starting dockerd in the background (log: /tmp/dockerd.log)"
  setsid dockerd >/tmp/dockerd.log 2>&1 </dev/null &
  [ -z "${ENGINE_PID_FILE:-}" ] || echo $! > "$ENGINE_PID_FILE"
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && { log "docker engine ready"; return; }
    sleep 0.5
  done
  log "dockerd did not answer within 30 s; see /tmp/dockerd.log"; tail -20 /tmp/dockerd.log >&2
  return 1
}

debian_mirror() {
  local uri
  uri=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | awk '{print $2}' | head -n1 || true)
  [ -n "$uri" ] || uri=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | awk '{print $2}' | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

ensure_base_image() {
  local image=debian:trixie-slim
  if docker image inspect "$image" >/dev/null 2>&1; then log "$image present"; return; fi
  if timeout 60 docker pull -q "$image" >/dev/null 2>&1; then log "$image pulled"; return; fi
  can_set_up || cannot_set_up "$image is missing and no registry answers"
  command -v debootstrap >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  local dir mirror
  dir=$(mktemp -d /tmp/trixie-root.XXXXXX)
  mirror=$(debian_mirror)
  log "seeding $image with debootstrap from $mirror"
  debootstrap --variant=minbase trixie "$dir" "$mirror" >/tmp/debootstrap.log 2>&1 || {
    tail -20 /tmp/debootstrap.log >&2; return 1; }
  # Match the real slim image: no apt lists, caches, docs or logs.
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/var/log/* \
         "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
  find "$dir"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie trixie-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: trixie-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    > "$dir"/etc/apt/sources.list.d/debian.sources
  : > "$dir"/etc/apt/sources.list
  # The official slim images keep dpkg from installing docs; do the same so sizes compare.
  mkdir -p "$dir"/etc/dpkg/dpkg.cfg.d
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/locale/*' 'path-include /usr/share/locale/locale.alias' \
    'path-exclude /usr/share/lintian/*' > "$dir"/etc/dpkg/dpkg.cfg.d/docker
  tar -C "$dir" -c . | docker import - "$image" >/dev/null
  rm -rf "$dir"
  log "$image seeded"
}

# The compose image test needs a compose client; Debian's docker-compose reads compose.yaml too.
ensure_compose() {
  if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1; then return; fi
  can_set_up || { log "no compose client (docker compose or docker-compose): the compose test will say so"; return; }
  log "installing docker-compose (Debian)"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
}

ensure_engine
ensure_base_image
ensure_compose
