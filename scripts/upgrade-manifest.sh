#!/usr/bin/env bash
# Upgrade a legacy releases/manifest.json (written by the bash-era create-release.sh and
# deploy workflows) to the current format, in place, atomically, keeping a backup
# (<manifest>.legacy-<UTC timestamp>.bak). A current manifest is left alone.
#
#   ./scripts/upgrade-manifest.sh                     releases/manifest.json of this checkout
#   ./scripts/upgrade-manifest.sh path/to/manifest.json [ansible-playbook options]
#   ./scripts/upgrade-manifest.sh --check --diff      show the upgrade, write nothing
#
# Exit 0 when upgraded or already current, 1 on failure (unreadable or invalid file; it is
# then unchanged), 2 on a usage error (the reason is the last line). -h/--help anywhere: this
# text, nothing else.
set -euo pipefail
# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"

tachyon_wrapper "upgrade-manifest.sh [manifest.json] [ansible-playbook options]" 0 1 "$@"
ARGS=()
if [[ ${#TACHYON_ARGS[@]} -eq 1 ]]; then
  MANIFEST=${TACHYON_ARGS[0]}
  [[ -f "$MANIFEST" ]] || tachyon_usage "$MANIFEST: no such file"
  # absolute, so a path relative to the caller's directory keeps its meaning; JSON marked
  # untrusted, so the path is data, never a Jinja template
  tachyon_venv
  ARGS=(-e "$(python -c 'import json, os, sys
print(json.dumps({"manifest_path": {"__ansible_unsafe": os.path.abspath(sys.argv[1])}}))' "$MANIFEST")")
fi
tachyon_playbook "upgrade-manifest" upgrade_manifest.yml ${ARGS[@]+"${ARGS[@]}"}
