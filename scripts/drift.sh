#!/usr/bin/env bash
# Drift report of the live App Platform app(s) of an inventory against the repo's App Spec
# and the release manifest (playbooks/drift.yml), with an exit status a scheduler can use.
#
#   ./scripts/drift.sh -i inventories/staging
#   ./scripts/drift.sh -i inventories/production -e format=json    JSON report(s) on stdout
#   ./scripts/drift.sh -i inventories/sandbox -l staging --check    also print the deploy that
#                                                                   brings the app back in line
#
# Options are ansible-playbook's (passed on; -i is required). Options that would run only part
# of the report or none of it (--tags, --skip-tags, --start-at-task, --step, --list-*,
# --syntax-check, --version) are refused before anything runs; -l/--limit picks hosts.
# Exit status: 0 in sync, 2 drifted (the report says what), 1 the report could not be made
# (API error, bad inventory, refused option: the reason on the last line).
# ansible-playbook itself exits 2 both for drift and for a failed task; this wrapper asks the
# play to write each host's report and exits 2 only when every failed host reported drift.
# With -e format=json, stdout is the JSON list of the reports and Ansible's output goes to
# stderr. -h/--help: this text.
set -uo pipefail
# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"

tachyon_help "$@"
tachyon_venv
# the shared option check (scripts/lib/playbook_options.py), minus the host limit: limiting
# hosts is how one environment of an inventory with both is reported
CHECKED=()
skip=0
for arg in "$@"; do
  if [[ $skip -eq 1 ]]; then skip=0; continue; fi
  case "$arg" in
    -l | --limit) skip=1; continue ;;
    -l?* | --limit=*) continue ;;
  esac
  CHECKED+=("$arg")
done
check_rc=0
reason="$(python "$TACHYON_ROOT/scripts/lib/playbook_options.py" playbooks/drift.yml ${CHECKED[@]+"${CHECKED[@]}"})" || check_rc=$?
case $check_rc in
  0) ;;
  3) tachyon_print_help; exit 0 ;;
  *) echo "$TACHYON_SCRIPT: error: $reason" >&2; exit 1 ;;
esac
if [[ " $* " != *" -i "* && " $* " != *" --inventory"* && " $* " != *" -i"?* ]]; then
  echo "$TACHYON_SCRIPT: error: no inventory: give -i inventories/staging, -i inventories/production or -i inventories/sandbox" >&2
  exit 1
fi
export ANSIBLE_CONFIG="$TACHYON_ROOT/ansible.cfg"
JSON=0
for arg in "$@"; do
  [[ "$arg" == "format=json" || "$arg" == *'"format": "json"'* ]] && JSON=1
done
REPORTS="$(mktemp -d)"
trap 'rm -rf "$REPORTS"' EXIT
DIR_VAR="$(python -c 'import json, sys
print(json.dumps({"drift_report_dir": {"__ansible_unsafe": sys.argv[1]}}))' "$REPORTS")"
rc=0
if [[ $JSON -eq 1 ]]; then
  ansible-playbook "$TACHYON_ROOT/playbooks/drift.yml" "$@" -e "$DIR_VAR" >&2 || rc=$?
else
  ansible-playbook "$TACHYON_ROOT/playbooks/drift.yml" "$@" -e "$DIR_VAR" || rc=$?
fi
python - "$REPORTS" "$rc" "$JSON" <<'PY'
import glob, json, os, sys
reports = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    with open(path) as handle:
        reports.append(json.load(handle))
rc, as_json = int(sys.argv[2]), sys.argv[3] == "1"
if as_json:
    print(json.dumps(reports, indent=2, sort_keys=True))
states = {r.get("status") for r in reports}
if rc == 0 and reports and states <= {"in_sync"}:
    status = "in_sync"
elif rc == 2 and reports and "drifted" in states and states <= {"in_sync", "drifted"}:
    status = "drifted"
else:
    status = "error"
with open(os.path.join(sys.argv[1], "status"), "w") as handle:
    handle.write(status)
PY
case "$(cat "$REPORTS/status" 2>/dev/null)" in
  in_sync) exit 0 ;;
  drifted) echo "drift found (exit 2)" >&2; exit 2 ;;
  *) echo "[ERROR] the drift report could not be made (ansible-playbook exit $rc); the reason is above" >&2; exit 1 ;;
esac
