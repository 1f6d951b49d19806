#!/usr/bin/env bash
# make demo: the main job of tachyon-infra on the embedded sandbox, end to end.
#
#   0. set up what the demo needs when it is missing (make setup-demo: the .venv with
#      ansible-core and the runtime libraries, installed with uv when it installs)
#   1. start the App Platform emulator (background, free port, ready file)
#   2. create the first release from the fixture service repos' main commits
#      (playbooks/release.yml) and deploy it to staging, then production
#   3. a few commits land in the service repos (tests/fixtures/services/advance_repos.py);
#      create the next release from their main commits
#   4. deploy staging (git ls-remote resolves each service's main; health must report the
#      release's api SHA); show the release notes (playbooks/release_notes.yml: per service the
#      commits between what production runs and the candidate); then production with an
#      approver (same SHAs, staging proof)
#   5. check both apps' health and the resulting manifest; show the release list
#      (playbooks/releases.yml); stop the emulator
#
# The terminal gets the story (each step's plan and outcome); every command's full output
# goes to a log file, named on the last line. Everything happens on a scratch copy of
# releases/manifest.json; the checkout is unchanged.
# Knobs: DEMO_FIRST_VERSION (0.1.9), DEMO_VERSION (0.2.0), DEMO_APPROVER (demo-approver),
# DEMO_PHASE_SECONDS (0.2), DEMO_KEEP=1 keeps the scratch directory, DEMO_LOG (the log file;
# default a new /tmp/tachyon-demo-<time>.log). No arguments: -h/--help prints this text,
# anything else is refused (exit 2).
set -euo pipefail

# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"
TACHYON_NO_OPTIONS=1 tachyon_wrapper "[DEMO_FIRST_VERSION=...] [DEMO_VERSION=...] [DEMO_APPROVER=...] [DEMO_PHASE_SECONDS=...] [DEMO_KEEP=1] [DEMO_LOG=...] demo.sh" 0 0 "$@"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FIRST_VERSION="${DEMO_FIRST_VERSION:-0.1.9}"
VERSION="${DEMO_VERSION:-0.2.0}"
APPROVER="${DEMO_APPROVER:-demo-approver}"
PHASE_SECONDS="${DEMO_PHASE_SECONDS:-0.2}"
START=$(date +%s)
LOG="${DEMO_LOG:-$(mktemp "${TMPDIR:-/tmp}/tachyon-demo-$(date -u +%Y%m%dT%H%M%SZ)-XXXX.log")}"
: >"$LOG"

# fd 3 is the terminal; everything else (every command's output) goes to the log.
exec 3>&1 >>"$LOG" 2>&1
say() { printf '%s\n' "$*" >&3; printf '%s\n' "$*"; }  # the story: terminal and log
step() { say ""; say "==> $*"; }
die() {
  {
    printf '\ndemo FAILED: %s\n' "$*"
    printf -- '--- the last lines of the log:\n'
    tail -n 25 "$LOG"
    printf -- '---\nfull log: %s\n' "$LOG"
  } >&3
  exit 1
}
elapsed() { echo $(( $(date +%s) - $1 )); }

say "tachyon-infra demo: the release flow on the sandbox (an App Platform emulator, local git remotes)"

T0=$(date +%s)
if ! make --no-print-directory -q setup-demo 2>/dev/null || [[ ! -x .venv/bin/ansible-playbook ]]; then
  make --no-print-directory setup-demo || die "make setup-demo failed (see the log)"
  say "setup: .venv with ansible-core and the runtime libraries ($(if [[ -x .venv/bin/uv ]]; then echo uv; else echo pip; fi)) in $(elapsed "$T0")s"
fi
T_SETUP=$(elapsed "$T0")
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg" ANSIBLE_NOCOLOR=1
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
    say "scratch kept: $SCRATCH"
  else
    rm -rf "$SCRATCH"
  fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

echo "== starting the App Platform emulator"
"$PY" -m emulator serve --port 0 --seed emulator/sandbox-seed.yml \
  --phase-seconds "$PHASE_SECONDS" --ready-file "$SCRATCH/ready" >"$SCRATCH/emulator.log" 2>&1 &
EMU_PID=$!
for _ in $(seq 1 100); do
  [[ -s "$SCRATCH/ready" ]] && break
  kill -0 "$EMU_PID" 2>/dev/null || { cat "$SCRATCH/emulator.log"; die "the emulator did not start"; }
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

echo "== service repos (fixture repos behind file:// remotes, standing in for GitHub)"
"$PY" tests/fixtures/services/make_repos.py "$SCRATCH/repos" >"$SCRATCH/repos.json" || die "making the fixture repos failed"
cat "$SCRATCH/repos.json"
read -r API_SHA WORKERS_SHA DB_SHA < <("$PY" - "$SCRATCH/repos.json" <<'EOF'
import json, sys
repos = json.load(open(sys.argv[1]))
print(repos["tachyon-api"]["sha"], repos["tachyon-workers"]["sha"], repos["tachyon-db"]["sha"])
EOF
)

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

# story KIND ARGS...: the demo's lines, read from the scratch manifest (the record every
# playbook run leaves) and the fixture repos; the full playbook output is in the log.
story() {
  "$PY" - "$MANIFEST" "$SCRATCH/repos/remotes" "$@" <<'EOF' >&3
import json, subprocess, sys
manifest_path, remotes, kind, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
manifest = json.load(open(manifest_path))
REPO = {"tachyon-db-migrate": "tachyon-db"}

def commits(service, old, new):
    if not old or old == new:
        return 0
    out = subprocess.run(["git", "--git-dir", "%s/%s.git" % (remotes, REPO.get(service, service)),
                          "rev-list", "--count", "%s..%s" % (old, new)], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)

def short(digest):
    return (digest or "no digest")[:19] + ("..." if digest else "")

if kind == "release":            # release VERSION PREVIOUS_ENV
    env = manifest["environments"].get(args[1]) or {}
    for name, pin in manifest["services"].items():
        old = (env.get("services") or {}).get(name, {}).get("sha")
        n = commits(name, old, pin["sha"])
        what = ("%d commit%s since what %s runs" % (n, "s" if n != 1 else "", args[1]) if n
                else "no change" if old else "its main")
        print("    %-19s %s  %s  %s" % (name, pin["sha"][:7], short(pin.get("digest")), what))
elif kind == "plan":             # plan ENV: what ENV runs now -> what the release pins
    env = manifest["environments"].get(args[0]) or {}
    now = env.get("services") or {}
    print("    plan for %s, release %s (now: %s):" % (args[0], manifest["version"], env.get("version") or "nothing recorded"))
    for name, pin in manifest["services"].items():
        old = now.get(name) or {}
        change = ("unchanged" if old.get("digest") == pin.get("digest") and old.get("sha") == pin["sha"]
                  else "%s -> %s" % ((old.get("sha") or "?")[:7], pin["sha"][:7]))
        print("    %-19s %-18s %s" % (name, change, short(pin.get("digest"))))
elif kind == "outcome":          # outcome ENV SECONDS
    env = manifest["environments"][args[0]]
    last = [h for h in manifest["history"] if h["environment"] == args[0]][-1]
    print("    %s: %s, deployment %s, health verified at %s%s, %ss"
          % (args[0], last["outcome"], (env.get("deployment_id") or "?")[:8], env.get("health_verified_at"),
             ", approved by %s" % env["approved_by"] if env.get("approved_by") else "", args[1]))
EOF
}

release() {  # release VERSION API_SHA WORKERS_SHA DB_SHA
  echo "== release $1"
  "${PLAYBOOK[@]}" playbooks/release.yml -e "release_version=$1" \
    -e "api_sha=$2" -e "workers_sha=$3" -e "db_sha=$4" \
    -e '{"release_description": "make demo"}' || die "creating release $1 failed"
}
# The sandbox's production soak (inventories/sandbox/group_vars/production.yml: a few seconds, as
# TACHYON_SANDBOX_SOAK_MINUTES says): the demo waits it out after staging verified the release,
# as a person would, instead of racing the gate (a deploy can now reach production sooner).
export TACHYON_SANDBOX_SOAK_MINUTES=${TACHYON_SANDBOX_SOAK_MINUTES:-0.05}
wait_for_soak() {
  local left
  left=$("$PY" - "$MANIFEST" "$TACHYON_SANDBOX_SOAK_MINUTES" <<'EOF'
import json, sys, time
sys.path.insert(0, ".collections")
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import epoch
verified = json.load(open(sys.argv[1]))["environments"]["staging"]["health_verified_at"]
left = epoch(verified) - time.time() + float(sys.argv[2]) * 60 + 1
print("%.1f" % max(0.0, left))
EOF
) || die "could not read staging's verification time from $MANIFEST"
  echo "== waiting ${left}s for the sandbox's production soak (${TACHYON_SANDBOX_SOAK_MINUTES} min after staging verified)"
  sleep "$left"
}
deploy() {  # deploy ENV VERSION: staging deploys each service's main (git ls-remote)
  local t0 env=$1 version=$2
  echo "== deploy $version to $env"
  t0=$(date +%s)
  if [[ $env == staging ]]; then
    "${PLAYBOOK[@]}" playbooks/deploy.yml -l staging "${REPOS[@]}" \
      -e "tachyon_deployed_by=${USER:-demo}" || die "the staging deploy of $version failed"
  else
    wait_for_soak
    "${PLAYBOOK[@]}" playbooks/deploy.yml -l production \
      -e "tachyon_version=$version" -e "tachyon_approved_by=$APPROVER" \
      -e "tachyon_deployed_by=${USER:-demo}" || die "the production deploy of $version failed"
  fi
  LAST_SECONDS=$(elapsed "$t0")
}

step "1. release $FIRST_VERSION from each service's main, deployed to staging, then production"
release "$FIRST_VERSION" "$API_SHA" "$WORKERS_SHA" "$DB_SHA"
deploy staging "$FIRST_VERSION"
story outcome staging "$LAST_SECONDS"
deploy production "$FIRST_VERSION"
story outcome production "$LAST_SECONDS"

step "2. work lands: commits in tachyon-api and tachyon-db (a migration), none in tachyon-workers"
read -r API_SHA WORKERS_SHA DB_SHA < <("$PY" - "$SCRATCH/repos" "$SCRATCH/repos.json" <<'EOF'
import json, sys
sys.path.insert(0, "tests/fixtures/services")
import advance_repos
heads = {name: pin["sha"] for name, pin in json.load(open(sys.argv[2])).items()}
heads.update({name: pin["sha"] for name, pin in advance_repos.advance(sys.argv[1]).items()})
print(heads["tachyon-api"], heads["tachyon-workers"], heads["tachyon-db"])
EOF
)
release "$VERSION" "$API_SHA" "$WORKERS_SHA" "$DB_SHA"
say "    release $VERSION created (playbooks/release.yml), commit and image digest per service:"
story release "$VERSION" production

step "3. deploy staging (playbooks/deploy.yml -i inventories/sandbox -l staging)"
story plan staging
deploy staging "$VERSION"
T_STAGING=$LAST_SECONDS
story outcome staging "$T_STAGING"

step "4. the release notes the approver reads (playbooks/release_notes.yml -l production)"
"${PLAYBOOK[@]}" playbooks/release_notes.yml -l production "${REPOS[@]}" \
  -e "tachyon_repo_cache=$SCRATCH/cache" -e "notes_output=$SCRATCH/release-notes.txt" \
  || die "the release notes failed"
sed 's/^/    /' "$SCRATCH/release-notes.txt" >&3
cat "$SCRATCH/release-notes.txt"
if ! grep -q "^tachyon-workers: no change" "$SCRATCH/release-notes.txt" ||
   ! grep -q "MIGRATIONS CHANGED" "$SCRATCH/release-notes.txt"; then
  die "the release notes do not show the fixture commits (no change for tachyon-workers, a migration in tachyon-db)"
fi

step "5. deploy production, approved by $APPROVER: only what staging verified, after its gates pass"
story plan production
deploy production "$VERSION"
T_PRODUCTION=$LAST_SECONDS
story outcome production "$T_PRODUCTION"

echo "== health of both live apps, and the resulting manifest"
"$PY" - "$TACHYON_SANDBOX_ENDPOINT" "$MANIFEST" "$VERSION" <<'EOF' || die "the live apps or the manifest are not what the demo deployed"
import json, sys, urllib.request
endpoint, manifest_path, version = sys.argv[1:]
manifest = json.load(open(manifest_path))
for env, app_id in (("staging", "5a4db0c5-0000-4000-8000-5a4db0c5a001"),
                    ("production", "5a4db0c5-0000-4000-8000-5a4db0c5a002")):
    with urllib.request.urlopen("%s/_live/%s/health" % (endpoint, app_id), timeout=5) as resp:
        payload = json.load(resp)
        print("%-10s GET /health -> %s %s" % (env, resp.status, json.dumps(payload, sort_keys=True)))
        assert payload["status"] == "healthy", "%s is not healthy" % env
        assert payload["version"] == manifest["services"]["tachyon-api"]["sha"], "%s reports another version" % env
print(json.dumps({k: manifest[k] for k in ("version", "services", "environments")}, indent=2))
assert manifest["version"] == version, "the manifest is not at the demo's version"
for env in ("staging", "production"):
    for name, svc in sorted(manifest["environments"][env]["services"].items()):
        assert (svc.get("digest") or "").startswith("sha256:"), "%s %s has no digest" % (env, name)
        assert svc["digest"] == manifest["environments"]["staging"]["services"][name]["digest"]
prod = manifest["environments"]["production"]
assert prod["deployment_id"] and prod["approved_by"] and prod["health_verified_at"], "production not recorded"
EOF

step "6. the releases (playbooks/releases.yml)"
"${PLAYBOOK[@]}" playbooks/releases.yml | tee "$SCRATCH/releases.log" || die "listing the releases failed"
# the list itself is the msg of the playbook's last debug task: print it without Ansible's framing
"$PY" - "$SCRATCH/releases.log" <<'EOF' >&3
import re, sys
text = open(sys.argv[1]).read()
block = re.search(r"msg: \|-\n(.*?)\n+PLAY RECAP", text, re.S)
for line in (block.group(1).splitlines() if block else ["(see the log)"]):
    # the digests of "Running now" are in the plans above (and in the log)
    if line.strip() and not re.match(r"\s+\S+\s+sha256:[0-9a-f]{64}$", line):
        print("    " + line[8:])
EOF

git diff --quiet -- releases/manifest.json || die "the checkout's releases/manifest.json changed"
say ""
say "demo OK in $(elapsed "$START")s (setup ${T_SETUP}s, staging ${T_STAGING}s, production ${T_PRODUCTION}s); the checkout is unchanged"
say "full log: $LOG"
