#!/usr/bin/env bash
# Markdown of the JSON drift reports scripts/drift.sh -e format=json wrote (for a GitHub job
# summary):  scripts/drift-summary.sh drift.json >> "$GITHUB_STEP_SUMMARY"
# The reports carry no secret value (SECRET envs are never shown). A missing or empty file
# (the report could not be made) gives a line saying so. -h/--help: this text.
set -euo pipefail
if [[ "${1:-}" == -h || "${1:-}" == --help || $# -ne 1 ]]; then
  awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"
  [[ $# -eq 1 ]] && exit 0 || exit 2
fi
exec python3 - "$1" <<'PY'
import json, sys
try:
    with open(sys.argv[1]) as handle:
        reports = json.load(handle)
except (OSError, ValueError):
    reports = []
if not reports:
    print("### Drift report\n\nNo report was made: see the job log.")
for r in reports:
    state = {"in_sync": "in sync", "drifted": "**DRIFTED**"}.get(r.get("status"), "error: %s" % r.get("msg", "?"))
    print("### Drift report: %s - %s\n" % (r.get("environment"), state))
    for f in r.get("findings") or []:
        where = f.get("path") or f.get("component") or ""
        what = {"spec": lambda: "%s: live %s, repo %s" % (f.get("change"), json.dumps(f.get("live", "-")),
                                                           json.dumps(f.get("repo", "-"))),
                "image": lambda: "runs %s, pinned %s" % (f.get("running"), f.get("recorded")),
                "deployment": lambda: f.get("message") or "active %s (%s), recorded %s"
                                      % (f.get("active"), f.get("cause"), f.get("recorded")),
                }.get(f.get("kind"), lambda: f.get("message", ""))()
        print("- `%s` %s %s" % (f.get("kind"), ("`%s`" % where) if where else "", what.replace("|", "\\|")))
    for n in r.get("notes") or []:
        print("\n_%s_" % n)
PY
