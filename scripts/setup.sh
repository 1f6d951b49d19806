#!/usr/bin/env bash
# Clone the Tachyon service repos as siblings of this checkout and validate the layout
# (the bash-era scripts/setup.sh, now playbooks/setup.yml with inventories/local).
#
#   ./scripts/setup.sh                                   clone what is missing, validate all
#   ./scripts/setup.sh -e repos_dir=/path/to/siblings    any ansible-playbook option is passed on
#
# Repos, URLs and branch: inventories/local/group_vars/all/local.yml (repos_list, repos_branch).
# Existing checkouts are validated, never pulled. Exit 0 when every repo is present, a git
# checkout of the expected remote with a package.json; 1 otherwise.
set -euo pipefail
# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"

tachyon_help "$@"

tachyon_playbook "setup" setup.yml -i "$TACHYON_ROOT/inventories/local" "$@"
cat <<'MSG'

=== Setup Complete ===
All repos cloned. Next steps:
  1. Start the local stack:  ansible-playbook playbooks/local.yml -i inventories/local
     (or, as before:         docker compose up)
  2. API health:             curl http://localhost:4000/health
MSG
