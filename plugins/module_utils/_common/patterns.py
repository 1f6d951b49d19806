# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""The whole-string patterns of the values the hub reads everywhere: git SHAs, semantic versions,
UTC timestamps, service names, image tags and digests, people, deployment ids; and the one
"is this a git commit SHA" / "do these two SHAs name the same commit" check.

The release manifest's JSON Schema (``_release.manifest_schema``) is built from these; input
checks (``_common.input_types``), the health check, the git cache, the secret scan and the
lookups use them too. Standard library only; nothing here imports another tachyon package.
"""
from __future__ import annotations

import re

# Every pattern here must match a WHOLE string. In Python, ``$`` also matches just before a
# trailing newline ("abc1234\n" matches ``^[0-9a-f]{7,40}$``), and jsonschema applies a schema
# ``pattern`` with ``re.search``. So the code uses ``fullmatch`` on the bare ``*_BODY`` regexes,
# and the JSON Schema patterns are ``whole(body)``: ``^(?:body)$(?!\n)``, which refuses a
# trailing newline under Python's re (jsonschema) and means the same under ECMA-262, JSON
# Schema's regex dialect, whose ``$`` is the end of the input. (``\Z`` is not ECMA-262: there it
# is a literal "Z".)
END_OF_STRING = r"$(?!\n)"


def whole(body):
    """The JSON Schema ``pattern`` matching exactly ``body`` and nothing around it."""
    return "^(?:%s)%s" % (body, END_OF_STRING)


# semver.org's official regex (2.0.0), without a leading "v", with [0-9] for \d (Python's \d
# also matches non-ASCII digits such as "\u0663").
SEMVER_BODY = (
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?")
SHA_BODY = r"[0-9a-f]{7,40}"
TIMESTAMP_BODY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z"
SERVICE_NAME_BODY = r"[a-z0-9][a-z0-9-]{0,62}"
TAG_BODY = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
DIGEST_BODY = r"sha256:[0-9a-f]{64}"
IMAGE_BODY = r"[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
# a person (deployed_by, approved_by, created_by): one line, no surrounding whitespace
PERSON_BODY = r"[^\s]([^\r\n]*[^\s])?"
# an App Platform deployment id (deployment_id, rolled_back_to): one token
ID_BODY = r"[^\s]+"

# compiled for ``fullmatch`` only (never ``match``/``search``: they are not anchored at the end)
SEMVER_RE = re.compile(SEMVER_BODY)
SHA_RE = re.compile(SHA_BODY)
TIMESTAMP_RE = re.compile(TIMESTAMP_BODY)
SERVICE_NAME_RE = re.compile(SERVICE_NAME_BODY)
PERSON_RE = re.compile(PERSON_BODY)
ID_RE = re.compile(ID_BODY)

SEMVER_PATTERN = whole(SEMVER_BODY)
SHA_PATTERN = whole(SHA_BODY)
TIMESTAMP_PATTERN = whole(TIMESTAMP_BODY)
SERVICE_NAME_PATTERN = whole(SERVICE_NAME_BODY)
PERSON_PATTERN = whole(PERSON_BODY)
ID_PATTERN = whole(ID_BODY)
FULL_SHA_RE = re.compile(r"[0-9a-f]{40}")
FULL_SHA_LENGTH = 40


def is_sha(value, full=False):
    """Whether ``value`` is a git commit SHA: 7-40 hex characters (exactly 40 when ``full``), any
    case, nothing else (no surrounding whitespace)."""
    return isinstance(value, str) and bool((FULL_SHA_RE if full else SHA_RE).fullmatch(value.lower()))


def same_commit(left, right):
    """Whether two SHAs (7-40 hex, any case) name the same commit: one is a prefix of the other."""
    if not (is_sha(left) and is_sha(right)):
        return False
    left, right = left.lower(), right.lower()
    return left.startswith(right) or right.startswith(left)


def stray_whitespace(value):
    """What to add to a message about ``value`` when stray whitespace or a wrong type explains it."""
    if isinstance(value, str) and value != value.strip():
        return "; remove the whitespace around it (a trailing newline counts)"
    if not isinstance(value, str) and value is not None:
        return "; it must be one string, not a %s" % type(value).__name__
    return ""


def person_problem(value, what):
    """None when ``value`` is unset (None or "") or a name on one line without surrounding
    whitespace, else the message saying what is wrong with it (for deployed_by, approved_by...)."""
    if value in (None, "") or (isinstance(value, str) and PERSON_RE.fullmatch(value)):
        return None
    return "%s: %r is not a name; give one name on one line (e.g. alice)%s" % (what, value, stray_whitespace(value))
