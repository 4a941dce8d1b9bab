#!/usr/bin/env bash
# `npm start`: from a checkout to a running server, and again without changing anything.
# Makes a Docker engine answer (.ci/engine.sh: as root on Debian it installs and starts one),
# builds the image from this checkout, and (re)creates the container only when it is missing,
# stopped or runs an older build. Accounts and messages live in the volume and survive all this.
#
#   XMPP_DOMAINS      the domain(s) to serve (default: localhost, with a self-signed certificate)
#   APPLIANCE_NAME    container name (default: xmpp); the data volume is "$APPLIANCE_NAME-data"
#   APPLIANCE_IMAGE   image tag to build and run (default: prosody-appliance:latest)
#   APPLIANCE_PORTS   host ports for 5222, 5223, 5269 and 5281 (default: "5222 5223 5269 5281")
# Served on 127.0.0.1 only while the domain is localhost; on every address for a real domain,
# with certbot's /etc/letsencrypt mounted read-only when it exists. Any other XMPP_* variable
# set here is passed to the container.
set -euo pipefail
cd "$(dirname "$0")/.."

name="${APPLIANCE_NAME:-xmpp}"
image="${APPLIANCE_IMAGE:-prosody-appliance:latest}"
domains="${XMPP_DOMAINS:-localhost}"
read -r -a host_ports <<< "${APPLIANCE_PORTS:-5222 5223 5269 5281}"
primary="${domains%%[, ]*}"
say() { printf '[start] %s\n' "$*" >&2; }

docker info >/dev/null 2>&1 || bash .ci/engine.sh
say "building $image from this checkout (cached after the first time)"
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
IMAGE="$image" bash .ci/build-image.sh >"$build_log" 2>&1 || { tail -30 "$build_log" >&2; say "building $image failed"; exit 1; }

container_ports=(5222 5223 5269 5281)
address=0.0.0.0 mounts=()
if [ "$domains" = localhost ]; then address=127.0.0.1
elif [ -d /etc/letsencrypt ]; then mounts=(--volume /etc/letsencrypt:/etc/letsencrypt:ro); fi
publish=()
for i in "${!container_ports[@]}"; do
  publish+=(--publish "$address:${host_ports[$i]:-${container_ports[$i]}}:${container_ports[$i]}")
done
env_args=(--env "XMPP_DOMAINS=$domains")
while IFS='=' read -r key _; do
  [ "$key" = XMPP_DOMAINS ] || env_args+=(--env "$key")
done < <(env | grep -E '^XMPP_[A-Z0-9_]+=' || true)
# What this run would start; a running container started with the same is left alone.
wanted=$(printf '%s\n' "$(docker image inspect --format '{{.Id}}' "$image")" "${publish[@]}" "${mounts[@]}" \
  "$(env | grep -E '^XMPP_[A-Z0-9_]+=' | sort)" "XMPP_DOMAINS=$domains" | sha256sum | cut -c1-16)

current=$(docker inspect --format '{{.State.Running}} {{index .Config.Labels "prosody-appliance.start"}}' "$name" 2>/dev/null || true)
if [ "$current" = "true $wanted" ]; then
  say "$name is already running this build with these settings: nothing to do"
else
  if [ -n "$current" ]; then say "replacing container $name (the data volume $name-data stays)"; docker rm --force "$name" >/dev/null; fi
  docker run --detach --name "$name" --restart unless-stopped \
    --label "prosody-appliance.start=$wanted" "${env_args[@]}" "${publish[@]}" "${mounts[@]}" \
    --volume "$name-data:/var/lib/prosody" "$image" >/dev/null
  say "started $name"
fi

for _ in $(seq 1 120); do
  docker exec "$name" appliance-healthcheck >/dev/null 2>&1 && break
  if [ "$(docker inspect --format '{{.State.Running}}' "$name")" != true ]; then
    docker logs --tail 30 "$name" >&2; say "$name stopped (exit $(docker inspect --format '{{.State.ExitCode}}' "$name")): see the log above"; exit 1
  fi
  sleep 0.5
done
docker exec "$name" appliance-healthcheck >/dev/null 2>&1 || { docker logs --tail 30 "$name" >&2; say "$name did not become ready within 60 s"; exit 1; }

fingerprint=$(docker exec "$name" sh -c "f=/var/lib/prosody/self-signed/$primary.crt; [ -f \$f ] && openssl x509 -in \$f -noout -fingerprint -sha256 | cut -d= -f2" || true)
host=$([ "$address" = 127.0.0.1 ] && echo 127.0.0.1 || echo "$primary")
cat <<EOF

Prosody is running in container $name for $domains.

Add a user (asks for the password twice):
  docker exec -it $name prosodyctl adduser you@$primary

Connect with any XMPP client as you@$primary: server $host, port ${host_ports[0]} (STARTTLS)
or ${host_ports[1]} (direct TLS); websocket and BOSH at https://$host:${host_ports[3]:-5281}/.
EOF
if [ -n "$fingerprint" ]; then
  cat <<EOF
The certificate is self-signed: your client asks once whether to trust it. Its SHA-256
fingerprint is $fingerprint
For a real domain, run XMPP_DOMAINS=example.org npm start with certbot's /etc/letsencrypt
(see README.md).
EOF
fi
printf '\nLogs: docker logs -f %s    Stop: docker stop %s    Again: npm start\n' "$name" "$name"
