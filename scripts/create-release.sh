#!/usr/bin/env bash
# Pin a release in releases/manifest.json (the bash-era scripts/create-release.sh, now
# playbooks/release.yml).
#
#   ./scripts/create-release.sh <version> <api-sha> <workers-sha> <db-sha> [ansible-playbook options]
#   ./scripts/create-release.sh 0.2.0 abc1234 def5678 0a1b2c3
#   ./scripts/create-release.sh 0.2.0 abc1234 def5678 0a1b2c3 -e manifest_path=/tmp/m.json
#
# Checked before anything is written: <version> is semver (MAJOR.MINOR.PATCH), each SHA is 7
# to 40 hex characters. Unlike the old script it keeps the environments and the history (what
# runs where), writes atomically under a lock, and refuses to re-pin an existing version to
# other SHAs (-e release_force=true to do it anyway). Same version and SHAs again: no change.
# Options after the four arguments go to ansible-playbook (-e, -v, --check, --diff, vault
# options...); options that would run only part of the playbook (--tags, --limit...) or none
# of it (--list-tasks, --syntax-check...) are refused.
# Exit 0 on success, 1 on a refused release (the file is then unchanged), 2 on a usage error
# (the reason is the last line). -h/--help anywhere: this text, nothing else.
set -euo pipefail
# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"

tachyon_wrapper "create-release.sh <version> <api-sha> <workers-sha> <db-sha> [ansible-playbook options]" 4 4 "$@"
VERSION=${TACHYON_ARGS[0]} API_SHA=${TACHYON_ARGS[1]} WORKERS_SHA=${TACHYON_ARGS[2]} DB_SHA=${TACHYON_ARGS[3]}
# JSON extra vars marked untrusted ({"__ansible_unsafe": ...}): each value reaches the module
# as the exact string given, never evaluated as a Jinja template, whatever it contains.
tachyon_venv
VARS=$(python -c 'import json, sys
print(json.dumps({k: {"__ansible_unsafe": v} for k, v in zip(["release_version", "api_sha", "workers_sha", "db_sha"], sys.argv[1:])}))' \
  "$VERSION" "$API_SHA" "$WORKERS_SHA" "$DB_SHA")
tachyon_playbook "create-release" release.yml -e "$VARS"
if [[ $TACHYON_MODE == check ]]; then
  echo "Check mode (--check): nothing was written; run again without --check to pin the release."
else
  echo "Commit and push the manifest before triggering a deployment."
fi
