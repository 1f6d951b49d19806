#!/usr/bin/env bash
# make demo: the main job of tachyon-infra on the embedded sandbox, end to end.
#
#   1. start the App Platform emulator (background, free port, ready file)
#   2. create the first release from the fixture service repos' main commits
#      (playbooks/release.yml) and deploy it to staging, then production
#   3. a few commits land in the service repos (tests/fixtures/services/advance_repos.py);
#      create the next release from their main commits
#   4. deploy staging (git ls-remote resolves each service's main; health must report the
#      release's api SHA); show the release notes (playbooks/release_notes.yml: per service the
#      commits between what production runs and the candidate); then production with an
#      approver (same SHAs, staging proof)
#   5. show the health checks, the resulting manifest, the release list (playbooks/releases.yml)
#      and the delivery metrics (playbooks/metrics.yml); stop the emulator
#
# Everything happens on a scratch copy of releases/manifest.json; the checkout is unchanged.
# Knobs: DEMO_FIRST_VERSION (0.1.9), DEMO_VERSION (0.2.0), DEMO_APPROVER (demo-approver),
# DEMO_PHASE_SECONDS (0.5), DEMO_KEEP=1 keeps the scratch directory. No arguments: -h/--help prints this text, anything
# else is refused (exit 2).
set -euo pipefail

# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"
TACHYON_NO_OPTIONS=1 tachyon_wrapper "[DEMO_FIRST_VERSION=...] [DEMO_VERSION=...] [DEMO_APPROVER=...] [DEMO_PHASE_SECONDS=...] [DEMO_KEEP=1] demo.sh" 0 0 "$@"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FIRST_VERSION="${DEMO_FIRST_VERSION:-0.1.9}"
VERSION="${DEMO_VERSION:-0.2.0}"
APPROVER="${DEMO_APPROVER:-demo-approver}"
PHASE_SECONDS="${DEMO_PHASE_SECONDS:-0.5}"
START=$(date +%s)

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\n\033[31mdemo FAILED: %s\033[0m\n' "$*" >&2; exit 1; }

if [[ ! -x .venv/bin/ansible-playbook || ! -e .collections/ansible_collections/tachyon/infra ]]; then
  say "setup (first run)"
  make setup
fi
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
PY="$ROOT/.venv/bin/python"

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/tachyon-demo.XXXXXX")"
EMU_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$EMU_PID" ]] && kill -0 "$EMU_PID" 2>/dev/null; then
    kill "$EMU_PID" 2>/dev/null || true
    wait "$EMU_PID" 2>/dev/null || true
  fi
  if [[ "${DEMO_KEEP:-0}" == 1 ]]; then
    echo "scratch kept: $SCRATCH"
  else
    rm -rf "$SCRATCH"
  fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

say "starting the App Platform emulator"
"$PY" -m emulator serve --port 0 --seed emulator/sandbox-seed.yml \
  --phase-seconds "$PHASE_SECONDS" --ready-file "$SCRATCH/ready" >"$SCRATCH/emulator.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 1 100); do
  [[ -s "$SCRATCH/ready" ]] && break
  kill -0 "$EMU_PID" 2>/dev/null || { cat "$SCRATCH/emulator.log" >&2; die "the emulator did not start"; }
  sleep 0.1
done
[[ -s "$SCRATCH/ready" ]] || die "the emulator did not report ready within 10 s"
TACHYON_SANDBOX_ENDPOINT="$(cat "$SCRATCH/ready")"
export TACHYON_SANDBOX_ENDPOINT
echo "emulator: $TACHYON_SANDBOX_ENDPOINT (pid $EMU_PID, log $SCRATCH/emulator.log)"

mkdir -p "$SCRATCH/releases"
cp releases/manifest.json "$SCRATCH/releases/manifest.json"
MANIFEST="$SCRATCH/releases/manifest.json"
echo "manifest: scratch copy $MANIFEST (the checkout's releases/manifest.json is not touched)"

say "service repos (fixture repos behind file:// remotes, standing in for GitHub)"
"$PY" tests/fixtures/services/make_repos.py "$SCRATCH/repos" >"$SCRATCH/repos.json"
read -r API_SHA WORKERS_SHA DB_SHA < <("$PY" - "$SCRATCH/repos.json" <<'EOF'
import json, sys
repos = json.load(open(sys.argv[1]))
print(repos["tachyon-api"]["sha"], repos["tachyon-workers"]["sha"], repos["tachyon-db"]["sha"])
EOF
)
echo "main: tachyon-api $API_SHA  tachyon-workers $WORKERS_SHA  tachyon-db $DB_SHA"

# Sandbox secret values, in this process's environment only (never on disk): the deploy
# reads TACHYON_SECRET_<KEY> for each SECRET env of the App Spec.
while read -r key; do
  export "TACHYON_SECRET_${key}=demo-${key,,}-$RANDOM$RANDOM"
done < <("$PY" - <<'EOF'
import yaml
keys = set()
for path in (".do/app.staging.yml", ".do/app.prod.yml"):
    spec = yaml.safe_load(open(path))
    lists = [spec.get("envs") or []]
    for kind in ("services", "workers", "jobs", "static_sites", "functions"):
        lists += [c.get("envs") or [] for c in spec.get(kind) or []]
    keys |= {e["key"] for envs in lists for e in envs if e.get("type") == "SECRET"}
print("\n".join(sorted(keys)))
EOF
)

PLAYBOOK=(ansible-playbook -i inventories/sandbox -e "manifest_path=$MANIFEST")
REPOS=(-e "tachyon_repo_base_url=file://$SCRATCH/repos/remotes")

release() {  # release VERSION API_SHA WORKERS_SHA DB_SHA
  "${PLAYBOOK[@]}" playbooks/release.yml -e "release_version=$1" \
    -e "api_sha=$2" -e "workers_sha=$3" -e "db_sha=$4" \
    -e "release_description=make demo" || die "creating release $1 failed"
}
deploy_staging() {  # deploy_staging VERSION (each service's main, resolved with git ls-remote)
  "${PLAYBOOK[@]}" playbooks/deploy.yml -l staging "${REPOS[@]}" \
    -e "tachyon_deployed_by=${USER:-demo}" || die "the staging deploy of $1 failed"
}
deploy_production() {  # deploy_production VERSION
  "${PLAYBOOK[@]}" playbooks/deploy.yml -l production \
    -e "tachyon_version=$1" -e "tachyon_approved_by=$APPROVER" \
    -e "tachyon_deployed_by=${USER:-demo}" || die "the production deploy of $1 failed"
}

say "release $FIRST_VERSION (playbooks/release.yml), deployed to staging, then production"
release "$FIRST_VERSION" "$API_SHA" "$WORKERS_SHA" "$DB_SHA"
deploy_staging "$FIRST_VERSION"
deploy_production "$FIRST_VERSION"

say "work lands in the service repos (commits in tachyon-api and tachyon-db, none in tachyon-workers)"
read -r API_SHA WORKERS_SHA DB_SHA < <("$PY" - "$SCRATCH/repos" "$SCRATCH/repos.json" <<'EOF'
import json, sys
sys.path.insert(0, "tests/fixtures/services")
import advance_repos
heads = {name: pin["sha"] for name, pin in json.load(open(sys.argv[2])).items()}
heads.update({name: pin["sha"] for name, pin in advance_repos.advance(sys.argv[1]).items()})
print(heads["tachyon-api"], heads["tachyon-workers"], heads["tachyon-db"])
EOF
)
echo "main: tachyon-api $API_SHA  tachyon-workers $WORKERS_SHA  tachyon-db $DB_SHA"

say "release $VERSION (playbooks/release.yml)"
release "$VERSION" "$API_SHA" "$WORKERS_SHA" "$DB_SHA"

say "deploy staging (playbooks/deploy.yml -i inventories/sandbox -l staging)"
T0=$(date +%s)
deploy_staging "$VERSION"
T_STAGING=$(( $(date +%s) - T0 ))

say "release notes: what production gets (playbooks/release_notes.yml -l production)"
"${PLAYBOOK[@]}" playbooks/release_notes.yml -l production "${REPOS[@]}" \
  -e "tachyon_repo_cache=$SCRATCH/cache" -e "notes_output=$SCRATCH/release-notes.txt" \
  >"$SCRATCH/release-notes.log" 2>&1 || { cat "$SCRATCH/release-notes.log" >&2; die "the release notes failed"; }
cat "$SCRATCH/release-notes.txt"
if ! grep -q "^tachyon-workers: no change" "$SCRATCH/release-notes.txt" ||
   ! grep -q "MIGRATIONS CHANGED" "$SCRATCH/release-notes.txt"; then
  die "the release notes do not show the fixture commits (no change for tachyon-workers, a migration in tachyon-db)"
fi

say "deploy production with approver $APPROVER (same SHAs, staging proof required)"
T0=$(date +%s)
deploy_production "$VERSION"
T_PRODUCTION=$(( $(date +%s) - T0 ))

say "health of both live apps"
"$PY" - "$TACHYON_SANDBOX_ENDPOINT" <<'EOF'
import json, sys, urllib.request
endpoint = sys.argv[1]
for env, app_id in (("staging", "5a4db0c5-0000-4000-8000-5a4db0c5a001"),
                    ("production", "5a4db0c5-0000-4000-8000-5a4db0c5a002")):
    with urllib.request.urlopen("%s/_live/%s/health" % (endpoint, app_id), timeout=5) as resp:
        print("%-10s GET /health -> %s %s" % (env, resp.status, json.dumps(json.load(resp), sort_keys=True)))
EOF

say "the resulting manifest (scratch copy)"
"$PY" - "$MANIFEST" "$VERSION" <<'EOF'
import json, sys
manifest = json.load(open(sys.argv[1]))
print(json.dumps({k: manifest[k] for k in ("version", "services", "environments")}, indent=2))
print("history:")
for entry in manifest["history"]:
    print("  %(at)s %(environment)-10s %(version)-6s %(outcome)-10s deployment %(deployment_id)s by %(deployed_by)s"
          % entry + (" approved by %s" % entry["approved_by"] if entry.get("approved_by") else ""))
prod = manifest["environments"]["production"]
assert manifest["version"] == sys.argv[2], "the manifest is not at the demo's version"
print("image digests (deployed by digest, production = what staging verified):")
for env in ("staging", "production"):
    for name, svc in sorted(manifest["environments"][env]["services"].items()):
        assert (svc.get("digest") or "").startswith("sha256:"), "%s %s has no digest" % (env, name)
        print("  %-10s %-19s %s" % (env, name, svc["digest"]))
assert prod["deployment_id"] and prod["approved_by"] and prod["health_verified_at"], "production not recorded"
EOF

# The release list and the delivery metrics of the scratch history
say "the releases (playbooks/releases.yml)"
"${PLAYBOOK[@]}" playbooks/releases.yml || die "listing the releases failed"
say "the delivery metrics (playbooks/metrics.yml)"
"${PLAYBOOK[@]}" playbooks/metrics.yml "${REPOS[@]}" -e "tachyon_repo_cache=$SCRATCH/cache" || die "the delivery metrics failed"

git diff --quiet -- releases/manifest.json || die "the checkout's releases/manifest.json changed"
say "demo OK in $(( $(date +%s) - START ))s (staging ${T_STAGING}s, production ${T_PRODUCTION}s); checkout unchanged"
