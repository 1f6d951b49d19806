#!/usr/bin/env bash
# The open pull requests of the service repos, as the JSON list the preview reaper takes
# (["owner/repo#N", ...], playbooks/preview.yml -e tachyon_preview_open=...). It fails closed:
# the reaper deletes the previews of every pull request NOT in this list, so a listing that
# could not be read completely must stop the run, never shrink to "no open pull request".
# It exits 1, printing nothing on stdout and saying why on stderr, when for any repo:
#   - gh fails (exit status not 0: auth, network, rate limit, unknown repo);
#   - gh's answer is not a JSON array of objects with a positive integer `number`
#     (empty, truncated or malformed output, an error object);
#   - the list has as many entries as the limit asked for (there may be more: not complete).
#
# Usage: bash scripts/open-pull-requests.sh OWNER REPO...   (e.g. tachyonapp tachyon-api tachyon-db)
# Env:   GH_TOKEN (read by gh), TACHYON_PR_LIST_LIMIT (default 1000), GH (default: gh on PATH)
set -euo pipefail

usage() {
    echo "usage: bash scripts/open-pull-requests.sh OWNER REPO...${1:+ ($1)}" >&2
    exit 2
}
[[ $# -ge 2 ]] || usage
for name in "$@"; do
    [[ "$name" =~ ^[A-Za-z0-9_.][A-Za-z0-9_.-]*$ ]] || usage "'$name' is not a GitHub owner or repository name"
done
owner=$1
shift
limit=${TACHYON_PR_LIST_LIMIT:-1000}
gh=${GH:-gh}
[[ "$limit" =~ ^[1-9][0-9]*$ ]] || { echo "open-pull-requests: TACHYON_PR_LIST_LIMIT must be a positive integer" >&2; exit 2; }

fail() {
    echo "::error::open pull requests of $owner/$repo: $1. Nothing is reaped: the reaper" \
        "deletes only from a listing it could read completely." >&2
    exit 1
}

all='[]'
for repo in "$@"; do
    if ! answer=$("$gh" pr list --repo "$owner/$repo" --state open --limit "$limit" --json number); then
        fail "gh pr list failed (see its message above)"
    fi
    # every entry an object with a positive integer number, and nothing else: anything else
    # (an error object, a cut-off array, an empty answer) is not a listing
    # (slurped: exactly one JSON value, so an empty answer or two concatenated ones are refused)
    if ! numbers=$(jq -cs 'if length == 1 and (.[0] | type) == "array"
                              and all(.[0][]; type == "object" and (.number | type) == "number"
                                              and .number >= 1 and .number == (.number | floor))
                           then .[0] | map(.number) else error("not a list of pull requests") end' \
                   <<<"$answer" 2>/dev/null); then
        fail "gh answered something that is not a complete JSON list of pull requests"
    fi
    count=$(jq -r length <<<"$numbers")
    if (( count >= limit )); then
        fail "$count pull requests, as many as the limit asked for ($limit): the list may be cut off (raise TACHYON_PR_LIST_LIMIT)"
    fi
    all=$(jq -c --arg repo "$owner/$repo" '. + ($numbers | map("\($repo)#\(.)"))' \
          --argjson numbers "$numbers" <<<"$all")
    echo "open-pull-requests: $owner/$repo: $count open pull request(s)" >&2
done
jq -c . <<<"$all"
