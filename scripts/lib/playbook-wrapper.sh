# shellcheck shell=bash
# Shared by the seed-compatible wrappers (scripts/setup.sh, validate-env.sh,
# create-release.sh, upgrade-manifest.sh) and, for their argument handling only, by demo.sh,
# provision-docker.sh and actionlint.sh; sourced, not run.
#
# Gives every wrapper the same behaviour:
#   - -h/--help anywhere in the arguments prints the usage (the script's header comment) and
#     does nothing else: exit 0;
#   - a wrong number of arguments, an unknown option, or an ansible-playbook option that would
#     make the wrapper's report untrue (--tags, --limit, --list-tasks, --version...) is refused
#     BEFORE anything runs: exit 2, the reason on the last line of output;
#   - works from any working directory (absolute playbook paths, ANSIBLE_CONFIG set to the
#     checkout's ansible.cfg);
#   - uses the checkout's .venv, running `make setup` (quietly) the first time;
#   - exit codes: 0 ok, 1 the playbook failed (its reason above the last [ERROR] line),
#     2 usage error.
#
# A wrapper: tachyon_wrapper <usage> <min positional> <max positional> "$@" (called as
# `TACHYON_NO_OPTIONS=1 tachyon_wrapper ...` when it passes no options on either), then uses
# "${TACHYON_ARGS[@]}" (its positional arguments) and "${TACHYON_OPTS[@]}" (checked
# ansible-playbook options, passed on) and prints its success message only when
# tachyon_playbook returned, saying what a --check run did not do ($TACHYON_MODE = check).

TACHYON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TACHYON_SCRIPT="$(basename "$0")"
TACHYON_ARGS=()
TACHYON_OPTS=()
TACHYON_MODE=run
TACHYON_USAGE=""

# tachyon_help "$@": on -h/--help anywhere (also clustered with flags, as ansible-playbook
# reads -vh) print the calling script's header comment and exit 0.
tachyon_help() {
  local arg
  for arg in "$@"; do
    if [[ "$arg" == --help || "$arg" =~ ^-[vCDJkKb]*h ]]; then
      tachyon_print_help
      exit 0
    fi
  done
}

tachyon_print_help() {
  awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"
}

# tachyon_usage <reason>: usage, then the reason as the LAST line (stderr); exit 2.
tachyon_usage() {
  {
    [[ -n "$TACHYON_USAGE" ]] && printf 'Usage: %s\n' "$TACHYON_USAGE"
    printf 'Run %s --help for the details.\n' "$TACHYON_SCRIPT"
    printf '%s: error: %s\n' "$TACHYON_SCRIPT" "$1"
  } >&2
  exit 2
}

# tachyon_wrapper <usage> <min> <max> "$@": help, then positional arguments (the leading
# arguments that do not start with "-"; between <min> and <max> of them), then the
# ansible-playbook options after them, checked by ansible-playbook's own parser
# (scripts/lib/playbook_options.py) without running anything.
tachyon_wrapper() {
  TACHYON_USAGE=$1
  local min=$2 max=$3
  shift 3
  tachyon_help "$@"
  while [[ $# -gt 0 && "$1" != -* ]]; do
    TACHYON_ARGS+=("$1")
    shift
  done
  TACHYON_OPTS=("$@")
  local n=${#TACHYON_ARGS[@]}
  if [[ -n "${TACHYON_NO_OPTIONS:-}" && $n -eq 0 && $# -gt 0 ]]; then
    tachyon_usage "unexpected option '$1' ($TACHYON_SCRIPT takes no options)"
  fi
  if [[ $n -gt $max ]]; then
    if [[ $max -eq 0 && -n "${TACHYON_NO_OPTIONS:-}" ]]; then
      tachyon_usage "unexpected argument '${TACHYON_ARGS[0]}' ($TACHYON_SCRIPT takes no arguments)"
    elif [[ $max -eq 0 ]]; then
      tachyon_usage "unexpected argument '${TACHYON_ARGS[0]}' ($TACHYON_SCRIPT takes no arguments, only ansible-playbook options)"
    fi
    tachyon_usage "unexpected argument '${TACHYON_ARGS[$max]}' (expected $(_tachyon_count "$min" "$max"), got $n)"
  fi
  if [[ $n -lt $min ]]; then
    tachyon_usage "expected $(_tachyon_count "$min" "$max"), got $n"
  fi
  local arg
  for arg in "${TACHYON_ARGS[@]}"; do
    [[ -n "$arg" ]] || tachyon_usage "an argument is empty"
  done
}

_tachyon_count() {
  if [[ $1 -eq $2 ]]; then
    echo "$1 argument(s) before any option"
  elif [[ $1 -eq 0 ]]; then
    echo "at most $2 argument(s) before any option"
  else
    echo "$1 to $2 argument(s) before any option"
  fi
}

# tachyon_check_options <playbook>: check "${TACHYON_OPTS[@]}" as ansible-playbook options
# for playbooks/<playbook>; sets TACHYON_MODE (run | check). Needs tachyon_venv first.
tachyon_check_options() {
  local out rc=0
  out="$(python "$TACHYON_ROOT/scripts/lib/playbook_options.py" "playbooks/$1" ${TACHYON_OPTS[@]+"${TACHYON_OPTS[@]}"})" || rc=$?
  # shellcheck disable=SC2034  # TACHYON_MODE is read by the wrapper that sourced this file
  case $rc in
    0) TACHYON_MODE=$out ;;
    2) tachyon_usage "$out" ;;
    3) tachyon_print_help; exit 0 ;;
    *) echo "[ERROR] checking the ansible-playbook options failed (rc=$rc): $out" >&2; exit 1 ;;
  esac
}

# tachyon_venv: make .venv and the collection link exist, then put them on PATH.
tachyon_venv() {
  if [[ ! -x "$TACHYON_ROOT/.venv/bin/ansible-playbook" \
        || ! -e "$TACHYON_ROOT/.collections/ansible_collections/tachyon/infra" ]]; then
    echo "[setup] first run: creating .venv with the pinned tools (make setup) ..." >&2
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/tachyon-setup.XXXXXX")"
    if ! make -C "$TACHYON_ROOT" --no-print-directory setup >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "[ERROR] make setup failed (output above); fix it, then run this command again." >&2
      exit 1
    fi
    rm -f "$log"
  fi
  export PATH="$TACHYON_ROOT/.venv/bin:$PATH"
  export ANSIBLE_CONFIG="$TACHYON_ROOT/ansible.cfg"
}

# tachyon_playbook <what> <playbook> [ansible-playbook args...]: check the wrapper's options,
# run the playbook with them; on failure print one [ERROR] line naming <what> and exit 1.
tachyon_playbook() {
  local what=$1 playbook=$2 rc=0
  shift 2
  tachyon_venv
  tachyon_check_options "$playbook"
  ansible-playbook "$TACHYON_ROOT/playbooks/$playbook" "$@" ${TACHYON_OPTS[@]+"${TACHYON_OPTS[@]}"} || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "[ERROR] $what failed (ansible-playbook playbooks/$playbook exited $rc; the reason is above)." >&2
    exit 1
  fi
}
