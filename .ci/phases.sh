#!/usr/bin/env bash
# make test's phases (what CI runs: bash .ci/run -> make test -> this), in two lanes:
#   pytest lane:  pytest on PYTEST_WORKERS processes (the long one; its output is shown as it runs)
#   other lane:   make sanity, molecule test per scenario, make workflows, one after the other,
#                 each into build/ci/<phase>.log
# The lanes run side by side: pytest's workers wait on subprocesses (ansible-playbook, the
# emulator's deployment phases, Docker) and its last minutes run on fewer workers than it has,
# so the other lane fills CPU that would sit idle; the phases use no fixed-name resource at the
# same time (scripts/workflows.sh and the modules of tests/conftest.py's SHARED_RESOURCES take
# turns on the same file locks). CI_LANES=1 runs every phase one after the other (the lanes'
# order), e.g. to measure each phase alone.
# Each phase prints one line when it ends (result, wall seconds, CPU seconds user+sys of it and
# everything it started, the load average when it started and ended) and the table again at the
# end, also in build/ci/phases.txt. CI_PHASES="pytest sanity molecule workflows" (the default)
# names the phases to run, for trying this script on a part. Exit status: non-zero when any phase failed (every phase
# runs whatever the others do).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
BIN=$ROOT/${VENV:-.venv}/bin
OUT=$ROOT/build/ci
mkdir -p "$OUT"
rm -f "$OUT"/*.phase
T0=$(date +%s)
LANES=${CI_LANES:-2}
PYTEST_WORKERS=${PYTEST_WORKERS:-4}
# the images scripts/provision-docker.sh chose (real ones, or stand-ins when none can be pulled)
IMAGES_ENV=${TACHYON_IMAGES_ENV:-/var/lib/tachyon-docker/images.env}
# shellcheck disable=SC1090  # written by scripts/provision-docker.sh, outside the repo
if [[ -f $IMAGES_ENV ]]; then set -a; . "$IMAGES_ENV"; set +a; fi
export PATH="$BIN:$PATH" ANSIBLE_CONFIG="$ROOT/ansible.cfg"
# GNU time (CPU seconds of a phase and its children): Debian's package `time`, in the base image
# here; installed when missing (make test installs what it needs itself)
if [[ ! -x /usr/bin/time ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1; } \
    || { echo "make test: /usr/bin/time is missing and apt-get could not install it (apt-get install time)"; exit 2; }
fi
LOCKS=$(python3 -c 'import tempfile; print(tempfile.gettempdir())')

want() { [[ " ${CI_PHASES:-pytest sanity molecule workflows} " == *" $1 "* ]]; }
load() { cut -d' ' -f1 /proc/loadavg; }
line() { # line <phase>: its row of the table
  local name=$1 rc start wall user sys load0 load1
  read -r rc start wall user sys load0 load1 <"$OUT/$name.phase"
  printf '%-8s %-22s start +%4ss  wall %5.0fs  cpu %5.0fs  load %5s -> %-5s  %s\n' \
    "$([[ $rc == 0 ]] && echo ok || echo FAILED)" "$name" "$start" "$wall" \
    "$(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}')" "$load0" "$load1" "build/ci/$name.log"
}
# phase <name> <command...>: runs it, its output in build/ci/<name>.log (and on the terminal
# when SHOW=1), then its line
phase() {
  local name=$1 start load0 rc
  shift
  start=$(( $(date +%s) - T0 )) load0=$(load)
  if [[ ${SHOW:-0} == 1 ]]; then
    /usr/bin/time -o "$OUT/$name.time" -f '%e %U %S' "$@" 2>&1 | tee "$OUT/$name.log"
    rc=${PIPESTATUS[0]}
  else
    /usr/bin/time -o "$OUT/$name.time" -f '%e %U %S' "$@" >"$OUT/$name.log" 2>&1
    rc=$?
  fi
  # /usr/bin/time writes "Command exited with non-zero status N" above the figures then
  echo "$rc $start $(tail -n 1 "$OUT/$name.time") $load0 $(load)" >"$OUT/$name.phase"
  printf '[ci %5ss] ' "$(( $(date +%s) - T0 ))"
  line "$name"
  return "$rc"
}

pytest_lane() {
  want pytest || return 0
  local args
  read -r -a args <<<"${PYTEST_ARGS:-}"  # make unit's PYTEST_ARGS: words, e.g. "tests/unit -k x"
  SHOW=1 phase pytest "$BIN/pytest" -n "$PYTEST_WORKERS" --dist loadfile --no-loadscope-reorder --durations=25 \
    "${args[@]}"
}
other_lane() {
  if want sanity; then phase sanity make --no-print-directory sanity; fi
  if want molecule; then
    "$BIN/molecule" reset --all >/dev/null 2>&1
    local file scenario
    for file in extensions/molecule/*/molecule.yml; do  # every scenario (molecule test --all)
      scenario=$(basename "$(dirname "$file")")
      if [[ $scenario == local_stack ]]; then
        # it builds the fixture services' ghcr.io/tachyonapp/<service>:<sha> images, as
        # tests/integration/test_seed_readme.py does (and pushes them): under that module's lock
        phase "molecule-$scenario" flock "$LOCKS/tachyon-tests-docker-registry.lock" "$BIN/molecule" test -s "$scenario"
      else
        phase "molecule-$scenario" "$BIN/molecule" test -s "$scenario"
      fi
    done
  fi
  if want workflows; then phase workflows make --no-print-directory workflows; fi
}

echo "[ci     0s] make test: pytest and (sanity, molecule, workflows) in $LANES lane(s); logs in build/ci/"
if [[ $LANES == 1 ]]; then
  pytest_lane
  other_lane
else
  other_lane &
  other=$!
  pytest_lane
  wait "$other"
fi

{
  printf '\nmake test: %ss wall on %s cores (load average %s at the end)\n' "$(( $(date +%s) - T0 ))" "$(nproc)" "$(load)"
  for f in "$OUT"/*.phase; do line "$(basename "$f" .phase)"; done | sort -t+ -k2 -n
} | tee "$OUT/phases.txt"
failed=$(grep -c '^FAILED' "$OUT/phases.txt")
for f in "$OUT"/*.phase; do
  name=$(basename "$f" .phase)
  if [[ $name != pytest ]] && ! grep -q '^0 ' "$f"; then
    printf '\n--- %s failed; the end of build/ci/%s.log:\n' "$name" "$name"
    tail -n 40 "$OUT/$name.log"
  fi
done
[[ $failed == 0 ]] || { echo "make test: $failed phase(s) FAILED"; exit 1; }
echo "make test: passed"
