# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Compare a rendered App Spec with the live one, secrets redacted; inject secrets in memory.

Secrets. App Platform returns SECRET env values as ``EV[...]`` ciphertext that is re-encrypted
on every write, so a live secret value can neither be read nor compared. Decision:

* Secret envs compare *redacted*: an env of type SECRET counts as changed only if it appears,
  disappears or changes type. Its value is replaced with ``REDACTED`` on both sides, so no
  value (plain or ciphertext) ever reaches a diff.
* To notice a rotated secret value without storing or reading it, the deploy module adds one
  app-level GENERAL env, ``TACHYON_SECRETS_FINGERPRINT`` = HMAC-SHA256 over the sorted
  ``component/KEY=value`` lines of every injected secret, keyed with the deploy token. The
  fingerprint is not reversible, and being keyed it cannot be used to brute-force short
  secrets by anyone who can merely read the app spec. A changed secret changes the
  fingerprint and so the spec (one redeploy). Rotating the token changes it too: one extra,
  harmless redeploy. Nothing is written to disk or to the manifest.

Server defaults. The API adds fields the rendered spec never sets. Dict keys present only in
the live spec are ignored; named lists (components, envs, databases, ...) are matched by
name/key, and an item present on one side only is a change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import hmac
import json

from ansible_collections.tachyon.infra.plugins.module_utils._spec.components import components

REDACTED = "REDACTED"
FINGERPRINT_KEY = "TACHYON_SECRETS_FINGERPRINT"
# list-valued fields whose items carry an identifying field, and that field
_NAMED_LISTS = {"envs": "key"}
_NAME_FIELDS = ("name", "key", "domain")


def _iter_env_lists(spec):
    """(component name or None for app level, envs list) for every envs list in the spec."""
    if isinstance(spec.get("envs"), list):
        yield None, spec["envs"]
    for _kind, _index, comp in components(spec):
        if isinstance(comp.get("envs"), list):
            yield comp.get("name"), comp["envs"]


def secret_envs(spec):
    """Every SECRET env as (component or None, key, has_value)."""
    found = []
    for comp, envs in _iter_env_lists(spec):
        for env in envs:
            if isinstance(env, dict) and env.get("type") == "SECRET":
                found.append((comp, env.get("key"), bool(env.get("value"))))
    return found


def missing_secrets(spec, secrets):
    """SECRET keys with no value in the spec and none in ``secrets``: {key: [components]}."""
    missing = {}
    for comp, key, has_value in secret_envs(spec):
        if not has_value and not (secrets or {}).get(key):
            missing.setdefault(key, []).append(comp or "(app)")
    return missing


def unused_secrets(spec, secrets):
    """Keys of ``secrets`` that no SECRET env of the spec uses."""
    used = {key for _comp, key, _has in secret_envs(spec)}
    return sorted(set(secrets or {}) - used)


def inject_secrets(spec, secrets):
    """A deep copy of ``spec`` with SECRET env values taken from ``secrets`` (in memory only).

    A SECRET env whose key is in ``secrets`` gets that value; one that already carries a value
    (e.g. a ``${db.PASSWORD}`` binding) keeps it otherwise.
    """
    out = copy.deepcopy(spec)
    for _comp, envs in _iter_env_lists(out):
        for env in envs:
            if isinstance(env, dict) and env.get("type") == "SECRET" and (secrets or {}).get(env.get("key")):
                env["value"] = secrets[env["key"]]
    return out


def fingerprint(spec_with_secrets, key):
    """Keyed HMAC-SHA256 over the SECRET values of a spec (see module docstring)."""
    lines = []
    for comp, envs in _iter_env_lists(spec_with_secrets):
        for env in envs:
            if isinstance(env, dict) and env.get("type") == "SECRET":
                lines.append("%s/%s=%s" % (comp or "", env.get("key"), env.get("value") or ""))
    digest = hmac.new((key or "").encode("utf-8"), "\n".join(sorted(lines)).encode("utf-8"), hashlib.sha256)
    return "hmac-sha256:" + digest.hexdigest()


def set_fingerprint(spec, value):
    """Set (or replace) the app-level fingerprint env in ``spec`` (in place); returns spec."""
    envs = [e for e in spec.get("envs") or [] if not (isinstance(e, dict) and e.get("key") == FINGERPRINT_KEY)]
    envs.append({"key": FINGERPRINT_KEY, "value": value, "scope": "RUN_TIME", "type": "GENERAL"})
    spec["envs"] = envs
    return spec


def redact(spec):
    """A deep copy with every SECRET env value replaced by REDACTED (present or not)."""
    out = copy.deepcopy(spec or {})
    for _comp, envs in _iter_env_lists(out):
        for env in envs:
            if isinstance(env, dict) and env.get("type") == "SECRET":
                env["value"] = REDACTED
    return out


def _item_id(item):
    if isinstance(item, dict):
        for field in _NAME_FIELDS:
            if isinstance(item.get(field), str):
                return field, item[field]
    return None


def _project(live, desired):
    """``live`` reduced to the shape of ``desired``: drop dict keys desired never sets."""
    if isinstance(desired, dict) and isinstance(live, dict):
        return {k: _project(live[k], desired[k]) for k in live if k in desired}
    if isinstance(desired, list) and isinstance(live, list):
        ids = [_item_id(d) for d in desired]
        if desired and all(ids):
            by_id = dict(zip(ids, desired))
            return [_project(item, by_id.get(_item_id(item), item)) for item in live]
        if len(live) == len(desired):
            return [_project(lv, dv) for lv, dv in zip(live, desired)]
    return live


def _canonical(value):
    """Order named lists by name so a reordering is not a change."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        ids = [_item_id(v) for v in items]
        if items and all(ids):
            return [v for _i, v in sorted(zip(ids, items), key=lambda pair: pair[0])]
        return items
    return value


def compare(desired, live):
    """(changed, before, after): redacted, projected, canonical forms of live and desired."""
    after = _canonical(redact(desired))
    before = _canonical(_project(redact(live), after)) if live else {}
    return before != after, before, after


def changed_paths(before, after, prefix="$"):
    """Short list of JSON-ish paths that differ (for messages and the progress summary)."""
    paths = []
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if key not in before or key not in after:
                paths.append("%s.%s" % (prefix, key))
            else:
                paths.extend(changed_paths(before[key], after[key], "%s.%s" % (prefix, key)))
        return paths
    if isinstance(before, list) and isinstance(after, list):
        bid = {_item_id(v): v for v in before if _item_id(v)}
        aid = {_item_id(v): v for v in after if _item_id(v)}
        if len(bid) == len(before) and len(aid) == len(after) and (bid or aid):
            for ident in sorted(set(bid) | set(aid)):
                label = "%s[%s=%s]" % (prefix, ident[0], ident[1])
                if ident not in bid or ident not in aid:
                    paths.append(label)
                else:
                    paths.extend(changed_paths(bid[ident], aid[ident], label))
            return paths
    if before != after:
        paths.append(prefix)
    return paths


def to_text(spec):
    """Stable YAML text for a diff (falls back to JSON if PyYAML is missing)."""
    try:
        import yaml

        return yaml.safe_dump(spec, default_flow_style=False, sort_keys=True)
    except ImportError:  # pragma: no cover
        return json.dumps(spec, indent=2, sort_keys=True) + "\n"
