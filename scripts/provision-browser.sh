#!/usr/bin/env bash
# Debian's chromium and its WebDriver, for the HTML report's headless-browser test
# (tests/integration/test_release_report_browser.py drives them with selenium).
#
#   bash scripts/provision-browser.sh        (root; idempotent; well under a second when installed)
#
# Installs chromium and chromium-driver (Debian packages, no browser download of its own) when
# dpkg does not list them as installed, then prints the versions.
# No arguments: -h/--help prints this text and does nothing else; anything else exits 2.
set -euo pipefail
# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"
TACHYON_NO_OPTIONS=1 tachyon_wrapper "bash scripts/provision-browser.sh" 0 0 "$@"

T0=$(date +%s%3N)
secs() { local ms=$(( $(date +%s%3N) - $1 )); printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100)); }
log() { printf '[provision-browser %7s] %s\n' "$(secs "$T0")" "$*"; }
die() { printf '[provision-browser] ERROR: %s\n' "$*" >&2; exit 1; }

missing=()
for p in chromium chromium-driver; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "chromium is missing and installing it needs root: sudo bash $0"
  log "packages: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "packages: already installed"
fi
log "$(chromium --version 2>/dev/null || echo 'chromium: no version')"
log "$(chromedriver --version 2>/dev/null | cut -d' ' -f1-2 || echo 'chromedriver: no version')"
