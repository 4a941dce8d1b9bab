#!/bin/sh
# The certbot companion of compose.yaml: one certificate for every name the xmpp service lists
# in certificate-names, issued when the list appears or changes, renewed twice a day. The xmpp
# service picks new files up live. Runs as the entrypoint of the certbot/certbot image (or any
# image with certbot and a POSIX shell); everything goes to the container's log.
#
#   CERTBOT_EMAIL           required: your address for the ACME account (expiry notices)
#   CERTBOT_ARGS            how certbot proves control, split on spaces. Default --standalone
#                           (HTTP-01 on port 80). DNS-01: see the README.
#   CERTBOT_RENEW_INTERVAL  seconds between `certbot renew` runs; default 43200 (twice a day)
#   CERTBOT_RETRY_INTERVAL  seconds before a failed request is tried again; default 3600
#                           (Let's Encrypt allows 5 failed validations per name an hour)
set -u

names_file=${CERTIFICATE_NAMES_FILE:-/run/certificate-request/certificate-names}
renew_every=${CERTBOT_RENEW_INTERVAL:-43200}
retry_after=${CERTBOT_RETRY_INTERVAL:-3600}
authenticator_args=${CERTBOT_ARGS:---standalone}

say() { echo "certbot-companion: $*"; }

# Sleep in the background: `docker stop` (SIGTERM) then ends the wait at once.
trap 'say "stopping"; exit 0' TERM INT
pause() { sleep "$1" & wait $!; }

if [ -z "${CERTBOT_EMAIL:-}" ]; then
  say "CERTBOT_EMAIL is not set: set it (in .env or compose.yaml) to the address the ACME server sends expiry notices to"
  exit 78
fi

# The names, one line each in the file, as one space-separated line (builtins only: this runs every few seconds).
read_names() {
  names=""
  [ -r "$names_file" ] || return 0
  while IFS= read -r name || [ -n "$name" ]; do
    [ -n "$name" ] && names="$names${names:+ }$name"
  done < "$names_file"
}

issued_for=""
next_request=0
next_renew=$(( $(date +%s) + renew_every ))
say "waiting for $names_file (the xmpp service writes it at every start); renewing every ${renew_every}s"

while :; do
  now=$(date +%s)
  read_names
  if [ -n "$names" ] && [ "$names" != "$issued_for" ] && [ "$now" -ge "$next_request" ]; then
    set --
    for name in $names; do set -- "$@" --domain "$name"; done
    primary=${names%% *}
    say "requesting a certificate for $names"
    # --keep-until-expiring: a lineage that already has these names and is not due is left alone.
    # shellcheck disable=SC2086 # CERTBOT_ARGS is split into words on purpose
    certbot certonly --non-interactive --agree-tos --email "$CERTBOT_EMAIL" \
      --cert-name "$primary" --keep-until-expiring $authenticator_args "$@"
    status=$?
    if [ "$status" -eq 0 ]; then
      issued_for=$names
      say "certificate for $names in /etc/letsencrypt/live/$primary; the xmpp service picks it up live"
    else
      next_request=$(( now + retry_after ))
      say "no certificate for $names: certbot failed (exit $status, its reason is above); trying again in ${retry_after}s. Until then the xmpp service serves a self-signed certificate for names no certificate covers."
    fi
  fi
  if [ "$now" -ge "$next_renew" ]; then
    next_renew=$(( now + renew_every ))
    certbot renew --non-interactive || say "certbot renew failed (exit $?, its reason is above); trying again in ${renew_every}s"
  fi
  pause 5
done
