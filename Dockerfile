# prosody-appliance: Prosody 13 (Debian trixie) configured from XMPP_* environment variables.
ARG BASE_IMAGE=debian:trixie-slim

# ---- builder: bundles the entrypoint into one file (esbuild); node_modules stays here ----
FROM ${BASE_IMAGE} AS builder
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# build-ca.pem is optional (absent unless you put it in the build context): extra CAs for a
# TLS-inspecting proxy between this build and the npm registry. It stays in this stage.
COPY package.json package-lock.json build-ca*.pem ./
RUN if [ -f build-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/src/build-ca.pem; fi \
 && npm ci --no-audit --no-fund --loglevel=error
# The web client: Converse.js's prebuilt dist/ from the npm registry, this exact tarball (its
# own dependencies are bundled into dist/ and not installed), without source maps and the
# unminified copies. Served from the image only.
ARG CONVERSE_VERSION=14.0.0
ARG CONVERSE_SHA512=2c5520d37d230da955e3bbc8fefc953ea60f65f2585c56ee6eaf2fd1c1437b6cd735e786124dd4a74163fd64f34fab7ee9da3e700213a32ef77808fb44d0e3d9
RUN if [ -f build-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/src/build-ca.pem; fi \
 && npm pack "converse.js@${CONVERSE_VERSION}" --silent --pack-destination /tmp \
 && echo "${CONVERSE_SHA512}  /tmp/converse.js-${CONVERSE_VERSION}.tgz" | sha512sum -c --quiet \
 && mkdir -p web-client && tar -xzf "/tmp/converse.js-${CONVERSE_VERSION}.tgz" -C /tmp package/dist \
 && mv /tmp/package/dist web-client/dist \
 && find web-client/dist -name '*.map' -delete \
 && rm -f web-client/dist/converse.js web-client/dist/converse.css web-client/dist/website*.css build-ca.pem
COPY entrypoint ./entrypoint
RUN npm run build

# ---- icu: Debian's ICU data cut to what Prosody and Node here use (server/icu/trim-icu-data.sh) ----
FROM ${BASE_IMAGE} AS icu
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends icu-devtools binutils \
 && rm -rf /var/lib/apt/lists/*
COPY server/icu/trim-icu-data.sh /usr/local/bin/
RUN trim-icu-data.sh /out

# ---- the appliance ----
FROM ${BASE_IMAGE}

# Prosody from trixie-backports (pinned to that suite for Prosody and its modules only).
COPY server/apt/trixie-backports.sources /etc/apt/sources.list.d/
COPY server/apt/prosody-from-backports.pref /etc/apt/preferences.d/
# The cut ICU data goes in place first; dpkg then skips the full 31 MB copy (path-exclude below),
# and the install checks that the cut came from the very libicu76 it installs.
COPY --from=icu /out/usr/ /usr/
COPY --from=icu /out/icu-data.txt /usr/local/share/prosody-appliance/
COPY server/dpkg-slim.cfg /etc/dpkg/dpkg.cfg.d/appliance-slim
# Fixed ids before the package is installed, so volume ownership survives rebuilds and upgrades.
# lua-dbi-* are the SQL drivers for XMPP_STORAGE=sqlite|postgres.
# dpkg skips what nothing here runs or serves (server/dpkg-slim.cfg says what and why); of
# prosody-modules, only the modules the appliance loads (and theirs) stay. Prosody 13.0.6 creates
# its user and directories (conf.d, certs, logs) with systemd's sysusers and tmpfiles: the
# standalone tools, not all of systemd. Programs that only package scripts run (those two,
# openssl for ca-certificates) or that nothing runs (telnet, which coturn pulls in) go once the
# install is done, in the same layer; so do debconf's template texts and
# dpkg's checksums, for dpkg-reconfigure and debsums, which no one runs in the appliance.
# /run/prosody-appliance is prosody's so that `docker run --user 101:101` can write the generated
# config there; started as root, the entrypoint gives it to root (Prosody only reads it).
RUN groupadd --system --gid 101 prosody \
 && useradd --system --uid 101 --gid prosody --home-dir /var/lib/prosody --no-create-home \
            --shell /usr/sbin/nologin prosody \
 && groupadd --system --gid 990 certs && usermod --append --groups certs prosody \
 && printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      prosody systemd-standalone-sysusers systemd-standalone-tmpfiles lua-unbound lua-readline lua-dbi-sqlite3 lua-dbi-postgresql nodejs tini ca-certificates coturn \
      prosody-modules libjs-bootstrap4 libjs-jquery \
 && dpkg -L prosody | sort > /tmp/prosody.files \
 && dpkg -L prosody-modules | grep -E '^/usr/lib/prosody/modules/[^/]+$' | sort | comm -23 - /tmp/prosody.files \
      | grep -vE '/mod_(http_libjs|invites_page|invites_register_web|register_apps|password_policy)(\.lua)?$' \
      | xargs rm -rf \
 && rm /tmp/prosody.files \
 && update-alternatives --remove telnet /usr/bin/inetutils-telnet \
 && rm /usr/bin/inetutils-telnet /usr/bin/openssl /usr/bin/systemd-sysusers /usr/bin/systemd-tmpfiles \
 && { grep -qF "from $(dpkg-query -Wf '${Package} ${Version}' libicu76) " /usr/local/share/prosody-appliance/icu-data.txt \
      || { echo "the cut ICU data is not from the libicu76 installed: rebuild without cache" >&2; exit 1; }; } \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
           /var/cache/debconf/*-old /var/cache/debconf/templates.dat /var/lib/dpkg/*-old \
           /var/lib/dpkg/info/*.md5sums \
           /usr/sbin/policy-rc.d /etc/prosody/certs/* /etc/prosody/conf.avail /etc/prosody/conf.d/* \
 && install -d -o prosody -g prosody -m 0750 /var/lib/prosody \
 && install -d -o prosody -g prosody -m 0750 /run/prosody-appliance

# Nothing in the container needs setuid or setgid binaries (su, passwd, mount ...): none are left.
RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +

COPY server/prosody.cfg.lua /etc/prosody/prosody.cfg.lua
COPY server/modules/ /usr/local/lib/prosody-appliance/prosody-modules/
# Prosody's Lua, compiled once here: it starts from bytecode (server/bytecode/load-bytecode.lua).
COPY server/bytecode/ /usr/local/lib/prosody-appliance/bytecode/
RUN mkdir /usr/local/lib/prosody-appliance/bytecode/cache \
 && find -L /usr/lib/prosody /usr/share/lua/5.4 /usr/local/lib/prosody-appliance/prosody-modules -name '*.lua' -type f \
    | lua5.4 /usr/local/lib/prosody-appliance/bytecode/compile-bytecode.lua /usr/local/lib/prosody-appliance/bytecode/cache
# Prosody's early start: its process starts with the container and waits for the configuration.
COPY server/start-appliance server/early-prosody.lua /usr/local/lib/prosody-appliance/
COPY server/healthcheck.lua /usr/local/bin/appliance-healthcheck
COPY server/storage-probe.lua /usr/local/bin/appliance-storage-probe
COPY server/appliance-invite /usr/local/bin/appliance-invite
COPY --from=builder /src/web-client/ /usr/local/share/prosody-appliance/web-client/
COPY server/web-client/ /usr/local/share/prosody-appliance/web-client/
RUN mv /usr/local/share/prosody-appliance/web-client/appliance-web-client.js /usr/local/share/prosody-appliance/web-client/dist/
COPY server/backup/appliance-backup server/backup/appliance-restore /usr/local/bin/
COPY server/backup/appliance-data.sh /usr/local/lib/prosody-appliance/
COPY --from=builder /src/dist/entrypoint.cjs /usr/local/lib/prosody-appliance/entrypoint.cjs
COPY --from=builder /src/dist/appliance-sql-data.cjs /usr/local/lib/prosody-appliance/appliance-sql-data.cjs
COPY --from=builder /src/dist/pg.cjs /usr/local/lib/prosody-appliance/pg.cjs
# The entrypoint starts from a V8 startup snapshot (entrypoint/snapshot.ts says why). A snapshot
# only loads into the Node and the V8 flags that built it: built here, with the ENTRYPOINT's flags.
# withoutCodeCache: Node would otherwise add compiled code for all ~320 of its built-in modules
# (3 MB of the 5.3 MB blob), read, copied and kept at every start; the few the entrypoint uses
# are already evaluated in the snapshot, and one it loads later compiles from source.
RUN printf '{"builder":"/usr/local/lib/prosody-appliance/entrypoint.cjs","withoutCodeCache":true}' > /tmp/snapshot.json \
 && node --jitless --no-expose-wasm --max-semi-space-size=1 --max-old-space-size=48 \
      --snapshot-blob /usr/local/lib/prosody-appliance/entrypoint.blob \
      --build-snapshot-config /tmp/snapshot.json \
 && rm /tmp/snapshot.json

# Last, so a new commit (a new VERSION) rebuilds no layer above.
ARG VERSION=dev
LABEL org.opencontainers.image.title="prosody-appliance" \
      org.opencontainers.image.description="A secure, federating Prosody 13 XMPP server configured from XMPP_* environment variables, with Let's Encrypt hot reload" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="debian:trixie-slim"
# APPLIANCE_VERSION: what appliance-backup writes in its manifest.
ENV NODE_ENV=production APPLIANCE_VERSION=${VERSION}
EXPOSE 5222 5223 5269 5281 5000 3478 3478/udp 5349
VOLUME ["/var/lib/prosody"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/appliance-healthcheck"]
# The entrypoint mostly waits and does its crypto natively: without the JIT it starts faster and
# stays ~5 MB smaller (bench/results/latest.md); a small young generation saves a few MB more.
# --no-expose-wasm says what --jitless implies anyway, so Node prints no warning about it.
# SIGUSR1 opens Node 20's inspector whatever listens (no --disable-sigusr1 before Node 22): its
# port is put on 192.0.2.1 (TEST-NET-1, in no container), so it can never open for Prosody's uid.
# start-appliance starts Prosody's process first (server/start-appliance says why), then execs Node.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/lib/prosody-appliance/start-appliance", "node", "--jitless", "--no-expose-wasm", "--max-semi-space-size=1", "--max-old-space-size=48", "--inspect-port=192.0.2.1:9229", "--snapshot-blob", "/usr/local/lib/prosody-appliance/entrypoint.blob"]
