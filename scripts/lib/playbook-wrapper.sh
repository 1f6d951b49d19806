# shellcheck shell=bash
# Shared by the seed-compatible wrappers (scripts/setup.sh, validate-env.sh,
# create-release.sh, upgrade-manifest.sh); sourced, not run.
#
# Gives every wrapper the same behaviour:
#   - works from any working directory (absolute playbook paths, ANSIBLE_CONFIG set to the
#     checkout's ansible.cfg);
#   - uses the checkout's .venv, running `make setup` (quietly) the first time;
#   - exit codes of the bash-era scripts: 0 ok, 1 on any failure or a usage error
#     (ansible-playbook's own code is printed on the last line).

TACHYON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# tachyon_usage <text>: print the usage to stderr and exit 1 (the bash-era scripts' ${1:?}).
tachyon_usage() {
  printf 'Usage: %s\n' "$1" >&2
  exit 1
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

# tachyon_playbook <what> <playbook> [ansible-playbook args...]: run it; on failure print
# one [ERROR] line naming <what> and exit 1.
tachyon_playbook() {
  local what=$1 playbook=$2 rc=0
  shift 2
  tachyon_venv
  ansible-playbook "$TACHYON_ROOT/playbooks/$playbook" "$@" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "[ERROR] $what failed (ansible-playbook playbooks/$playbook exited $rc; the reason is above)." >&2
    exit 1
  fi
}

# tachyon_help "$@": on -h/--help print the calling script's header comment and exit 0.
tachyon_help() {
  case "${1:-}" in
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
  esac
}
