#!/usr/bin/env bash
# Check the env files against the master schema env/.env.example (the bash-era
# scripts/validate-env.sh, now the env_schema check of playbooks/validate.yml).
#
#   ./scripts/validate-env.sh
#   ./scripts/validate-env.sh -e validate_root=/other/checkout   (options go to ansible-playbook)
#
# Every env file must define the schema's variables (except the ones the schema excludes
# for that environment); duplicates, syntax errors, unknown keys and real-looking secrets
# are findings too, each with file, line and key, never a value.
# Exit 0 when consistent, 1 otherwise, 2 on a usage error (no arguments; options that would
# skip the check, such as --tags or --list-tasks, are refused). -h/--help anywhere: this text.
# The full CI gate is `make validate`.
set -euo pipefail
# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"

tachyon_wrapper "validate-env.sh [ansible-playbook options]" 0 0 "$@"
tachyon_playbook "validate-env" validate.yml -e '{"validate_checks": ["env_schema"]}'
echo
echo "All environment files are consistent."
