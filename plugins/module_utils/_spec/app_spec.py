# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""App Spec helpers: load, validate (schema + env keys declared), render images, redact.

Used by the ``app_spec`` module and imported by the deploy helper. Validation against
DigitalOcean's schema lives in ``_spec.schema`` and ``_spec.rules``, the component kinds in ``_spec.components``; this adds the checks that need
the project's env schema and the render/redaction steps of a deploy.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

from ansible_collections.tachyon.infra.plugins.module_utils._common.findings import json_path
from ansible_collections.tachyon.infra.plugins.module_utils._spec.components import components, image_components
from ansible_collections.tachyon.infra.plugins.module_utils._spec.rules import validate_app_spec

BINDING_RE = re.compile(r"\$\{[^}]*\}")


def load_spec(path):
    """Read an App Spec YAML file. Raises ValueError naming the file on bad YAML, a
    duplicate key included (strict_input: libyaml's safe loader when available)."""
    import yaml

    from ansible_collections.tachyon.infra.plugins.module_utils._common.strict_input import load_yaml

    with open(path, encoding="utf-8") as handle:
        try:
            spec = load_yaml(handle)
        except yaml.YAMLError as exc:
            raise ValueError("%s is not valid YAML: %s" % (path, exc))
    if not isinstance(spec, dict):
        raise ValueError("%s does not hold an App Spec (a YAML mapping with name, region, "
                         "services...)" % path)
    return spec


def iter_envs(spec):
    """Yield (component name or "" for app level, JSON path parts of the env, env dict)."""
    for index, env in enumerate(spec.get("envs") or []):
        if isinstance(env, dict):
            yield "", ["envs", index], env
    for kind, c_index, component in components(spec):
        for index, env in enumerate(component.get("envs") or []):
            if isinstance(env, dict):
                yield component.get("name", ""), [kind, c_index, "envs", index], env


def component_names(spec):
    return [c.get("name") for _kind, _index, c in components(spec)]


def secret_env_keys(spec):
    """{(component or "" for app level, key)} of every env with ``type: SECRET``."""
    return {(name, env.get("key")) for name, _path, env in iter_envs(spec)
            if env.get("type") == "SECRET"}


def redact_secrets(spec, placeholder=""):
    """Deep copy of ``spec`` with the value of every SECRET env replaced by ``placeholder``."""
    out = copy.deepcopy(spec)
    for _name, _path, env in iter_envs(out):
        if env.get("type") == "SECRET" and "value" in env:
            env["value"] = placeholder
    return out


def render_images(spec, images):
    """New spec with ``image.tag`` or ``image.digest`` set per component.

    ``images``: {component name: {"tag": ...} or {"digest": ...}}. The other of tag and
    digest is removed. Raises ValueError for an unknown component, a component without
    an image source, a bad entry, or an image component left without tag and digest.
    """
    if not isinstance(images, dict):
        raise ValueError("images must be a mapping of component name -> {tag: ...} or {digest: ...}")
    out = copy.deepcopy(spec)
    targets = image_components(out)
    names = component_names(out)
    for name, ref in images.items():
        if name not in targets:
            if name in names:
                raise ValueError("component '%s' has no image source (it builds from git or "
                                 "source); only image components can be rendered: %s"
                                 % (name, ", ".join(sorted(targets))))
            raise ValueError("unknown component '%s': the spec's image components are %s"
                             % (name, ", ".join(sorted(targets)) or "none"))
        if not isinstance(ref, dict) or len([k for k in ("tag", "digest") if ref.get(k)]) != 1 \
                or set(ref) - {"tag", "digest"}:
            raise ValueError("images['%s'] must be {tag: <tag>} or {digest: sha256:<hex>}, "
                             "exactly one of them" % name)
        image = targets[name]
        if ref.get("tag"):
            image["tag"] = str(ref["tag"])
            image.pop("digest", None)
        else:
            digest = str(ref["digest"])
            if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
                raise ValueError("images['%s'].digest must look like sha256:<64 hex>" % name)
            image["digest"] = digest
            image.pop("tag", None)
    unset = sorted(name for name, image in targets.items()
                   if not image.get("tag") and not image.get("digest"))
    if unset:
        raise ValueError("image source of %s has neither tag nor digest: pass it in images"
                         % ", ".join(unset))
    return out


def render_file(path, images, display=None):
    """The App Spec at ``path`` with ``images`` applied (see render_images) and every SECRET
    value blank: what a deploy sends, before secrets are injected in memory. Raises
    ValueError saying what is wrong (``display`` names the file, default ``path``)."""
    try:
        spec = load_spec(path)
    except (OSError, ValueError) as exc:
        raise ValueError("cannot load App Spec: %s" % exc)
    try:
        return redact_secrets(render_images(spec, images))
    except ValueError as exc:
        raise ValueError("cannot render %s: %s" % (display or path, exc))


def _finding(path_parts, message, hint, check):
    return {"path": json_path(path_parts), "message": message, "hint": hint, "check": check}


def check_envs(spec, schema):
    """Findings for env keys against an env schema (``env_schema.Schema``).

    * every env key of every component and of the app is declared in the schema;
    * a variable the schema marks ``@secret`` is declared ``type: SECRET``;
    * a SECRET env holds no literal value (empty or ``${component.VAR}`` bindings only):
      values are injected at deploy time, never committed.
    """
    findings = []
    for name, parts, env in iter_envs(spec):
        key = env.get("key")
        where = ("component '%s'" % name) if name else "the app"
        if not isinstance(key, str):
            continue  # the schema check reports it
        var = schema.variables.get(key)
        if var is None:
            findings.append(_finding(parts + ["key"],
                                     "env %s of %s is not declared in the env schema" % (key, where),
                                     "declare and document %s in %s (mark it @secret if it is a "
                                     "credential)" % (key, schema.display), "env-declared"))
            continue
        if var["secret"] and env.get("type") != "SECRET":
            findings.append(_finding(parts + ["type"],
                                     "env %s of %s is a secret in the env schema but not type SECRET"
                                     % (key, where),
                                     "add `type: SECRET` with an empty value; the deploy injects it",
                                     "env-secret-type"))
    for name, parts, env in iter_envs(spec):
        if env.get("type") == "SECRET" and isinstance(env.get("value"), str) \
                and BINDING_RE.sub("", env["value"]).strip():
            findings.append(_finding(parts + ["value"],
                                     "SECRET env %s of %s holds a literal value in the spec"
                                     % (env.get("key"), ("component '%s'" % name) if name else "the app"),
                                     "commit it empty (value: \"\") and let the deploy inject it; "
                                     "rotate it if it was real", "env-secret-value"))
    return findings


def validate(spec, schema=None):
    """All findings for a spec: DigitalOcean's schema and cross-field rules (check ``schema``
    or ``rule:<id>``), then env keys when an env schema is given."""
    findings = [dict(f) for f in validate_app_spec(spec)]
    if schema is not None:
        findings.extend(check_envs(spec, schema))
    return findings


def format_finding(display, f):
    line = "%s: %s: %s" % (display, f["path"], f["message"])
    return line + (" (hint: %s)" % f["hint"] if f.get("hint") else "")
