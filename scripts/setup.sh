#!/usr/bin/env bash
# Clone the Tachyon service repos as siblings of this checkout and validate the layout
# (the bash-era scripts/setup.sh, now playbooks/setup.yml with inventories/local).
#
#   ./scripts/setup.sh                                   clone what is missing, validate all
#   ./scripts/setup.sh -e repos_dir=/path/to/siblings    any ansible-playbook option is passed on
#
# Repos, URLs and branch: inventories/local/group_vars/all/local.yml (repos_list, repos_branch).
# Existing checkouts are validated, never pulled. Exit 0 when every repo is present, a git
# checkout of the expected remote with a package.json; 1 otherwise; 2 on a usage error (no
# arguments; options such as --tags or --list-tasks are refused). -h/--help anywhere: this text.
set -euo pipefail
# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"

tachyon_wrapper "setup.sh [ansible-playbook options]" 0 0 "$@"
tachyon_playbook "setup" setup.yml -i "$TACHYON_ROOT/inventories/local"
if [[ $TACHYON_MODE == check ]]; then
  echo "Check mode (--check): nothing was cloned; run again without --check to clone what is missing."
  exit 0
fi
cat <<'MSG'

=== Setup Complete ===
All repos cloned. Next steps:
  1. Start the local stack:  ansible-playbook playbooks/local.yml -i inventories/local
     (or, as before:         docker compose up)
  2. API health:             curl http://localhost:4000/health
MSG
