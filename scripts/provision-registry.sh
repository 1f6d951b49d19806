#!/usr/bin/env bash
# A real container registry on 127.0.0.1, the GHCR stand-in of the tests and the local stack.
#
#   bash scripts/provision-registry.sh        (root; idempotent; well under a second when running)
#
# 1. Debian's docker-registry (the CNCF distribution registry, 2.8) and apache2-utils (htpasswd).
# 2. A state folder ($TACHYON_REGISTRY_DIR) with config.yml, an htpasswd file (bcrypt) for user
#    $TACHYON_REGISTRY_USER and a generated password (file `password`, mode 0600, never printed),
#    and the registry's storage.
# 3. The registry as a plain background process (no init system here), listening on
#    $TACHYON_REGISTRY_ADDR (default 127.0.0.1:5000; docker treats 127.0.0.0/8 as an insecure
#    registry, so plain HTTP works for push and pull). Its pid is in registry.pid, its log in
#    registry.log. Already answering (401 on /v2/): nothing to do.
# The tests read `env` in the state folder (TACHYON_REGISTRY_URL, _USER, _PASSWORD_FILE).
#
# Variables: TACHYON_REGISTRY_DIR (/var/lib/tachyon-registry), TACHYON_REGISTRY_ADDR,
#            TACHYON_REGISTRY_USER (tachyon).
# No arguments: -h/--help prints this text and does nothing else; anything else exits 2.
set -euo pipefail
# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"
TACHYON_NO_OPTIONS=1 tachyon_wrapper "[VARIABLE=value...] bash scripts/provision-registry.sh" 0 0 "$@"

DIR="${TACHYON_REGISTRY_DIR:-/var/lib/tachyon-registry}"
ADDR="${TACHYON_REGISTRY_ADDR:-127.0.0.1:5000}"
USER_NAME="${TACHYON_REGISTRY_USER:-tachyon}"
T0=$(date +%s%3N)

secs() { local ms=$(( $(date +%s%3N) - $1 )); printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100)); }
log() { printf '[provision-registry %7s] %s\n' "$(secs "$T0")" "$*"; }
die() { printf '[provision-registry] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages): sudo bash $0"

missing=()
for p in docker-registry apache2-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "packages: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "packages: already installed"
fi

status() { # HTTP status of GET /v2/ (401 = up, with auth), 000 when nothing answers
  python3 - "$ADDR" <<'EOF'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen("http://%s/v2/" % sys.argv[1], timeout=2)
    print(200)
except urllib.error.HTTPError as err:
    print(err.code)
except OSError:
    print("000")
EOF
}

mkdir -p "$DIR/storage"
chmod 0700 "$DIR"
if [ ! -s "$DIR/password" ]; then
  (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(24))' >"$DIR/password")
fi
htpasswd -Bbc "$DIR/htpasswd" "$USER_NAME" "$(cat "$DIR/password")" 2>/dev/null
cat >"$DIR/config.yml" <<EOF
# written by scripts/provision-registry.sh
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DIR/storage
  delete:
    enabled: true
http:
  addr: $ADDR
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: tachyon-registry
    path: $DIR/htpasswd
EOF
cat >"$DIR/env" <<EOF
TACHYON_REGISTRY_URL=http://$ADDR
TACHYON_REGISTRY_USER=$USER_NAME
TACHYON_REGISTRY_PASSWORD_FILE=$DIR/password
EOF

case "$(status)" in
  401) log "registry: already running on $ADDR (htpasswd auth)"; exit 0 ;;
  000) ;;
  *) die "something else answers on $ADDR (GET /v2/ is not 401): set TACHYON_REGISTRY_ADDR" ;;
esac
log "registry: starting docker-registry on $ADDR (log: $DIR/registry.log)"
setsid nohup /usr/bin/docker-registry serve "$DIR/config.yml" >>"$DIR/registry.log" 2>&1 </dev/null &
echo $! >"$DIR/registry.pid"
for _ in $(seq 1 100); do
  [ "$(status)" = 401 ] && { log "registry: up (pid $(cat "$DIR/registry.pid"))"; exit 0; }
  sleep 0.1
done
tail -20 "$DIR/registry.log" >&2 || true
die "docker-registry did not answer on $ADDR within 10s (see $DIR/registry.log)"
