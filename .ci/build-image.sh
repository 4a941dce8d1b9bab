#!/usr/bin/env bash
# Builds prosody-appliance:latest (or $IMAGE) from the working tree: `npm run build:image`.
#
# Behind a TLS-inspecting proxy, the builder stage's `npm ci` needs the proxy's CA. Give it with
# BUILD_CA_FILE=/path/to/ca.pem; without it, the CA bundle npm on this machine is set to trust
# (`npm config get cafile`, or NODE_EXTRA_CA_CERTS) is used. It is copied into the build context
# as build-ca.pem for the builder stage only; the final image never contains it.
set -euo pipefail
cd "$(dirname "$0")/.."

image="${IMAGE:-prosody-appliance:latest}"
ca="${BUILD_CA_FILE:-}"
if [ -z "$ca" ]; then
  ca=$(npm config get cafile 2>/dev/null | tail -n1 || true)
  case "$ca" in null|undefined) ca="" ;; esac
  [ -n "$ca" ] || ca="${NODE_EXTRA_CA_CERTS:-}"
fi

created_ca=""
cleanup() { [ -z "$created_ca" ] || rm -f build-ca.pem; }
trap cleanup EXIT
if [ -n "$ca" ] && [ ! -e build-ca.pem ]; then
  [ -r "$ca" ] || { echo "build-image: BUILD_CA_FILE=$ca is not a readable file" >&2; exit 2; }
  cp "$ca" build-ca.pem
  created_ca=1
fi

version=$(git describe --always --dirty 2>/dev/null || echo dev)
exec docker build --tag "$image" --build-arg "VERSION=$version" --file Dockerfile . "$@"
