# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""The environment schema: ``env/.env.example`` and the per-environment files.

The master schema is a dotenv file. Each variable is documented by the comment lines
directly above it (or an inline comment); annotations on those lines make it
machine-readable:

    # Password of the application user.
    # @secret
    # @exclude production
    POSTGRES_APP_PASSWORD=

* ``@secret``: a credential. Example files may hold no real-looking value for it.
* ``@exclude <env>[, <env>]``: the variable must not be defined in those environments
  (the upstream kept this list in a shell script; here it lives with the variable).
* ``@environments <env>, ...`` (anywhere in the header): the known environment names;
  ``@exclude`` may only name these. Default: local, staging, production.

Files are parsed with python-dotenv's parser (the one the services' dotenv loaders
share), which also reports syntax errors with their line. Findings are dicts
``{"file", "line", "key", "check", "message"}``; a message never contains a value.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import dataclasses
import io
import os
import re

from ansible_collections.tachyon.infra.plugins.module_utils._validate.secret_scan import looks_like_secret

DEFAULT_ENVIRONMENTS = ("local", "staging", "production")
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ANNOTATION_RE = re.compile(r"^#\s*@([A-Za-z][\w-]*)\s*:?\s*(.*?)\s*$")
BINDING_RE = re.compile(r"\$\{[^}]*\}")
# Values that say "fill me in" rather than being one: <set-in-do-secrets>, sk_test_...,
# changeme.
PLACEHOLDER_RE = re.compile(r"^(<[^<>]*>|.*\.\.\.|changeme|change-me|xxx+)$", re.IGNORECASE)
ENV_FILE_RE = re.compile(r"^\.env\.([A-Za-z0-9_-]+?)(\.example)?$")
KNOWN_ANNOTATIONS = ("secret", "exclude", "environments")


@dataclasses.dataclass
class Entry:
    """One ``KEY=value`` line. ``value`` stays internal: it is never reported (nor in repr)."""

    key: str
    line: int
    value: str = dataclasses.field(repr=False)
    has_equals: bool
    doc: list
    annotations: list


def finding(path, line, key, check, message):
    return {"file": path, "line": line, "key": key, "check": check, "message": message}


def _first_line(binding):
    """Line number of the first non-blank character of a dotenv binding."""
    text = binding.original.string
    stripped = text.lstrip()
    return binding.original.line + text[:len(text) - len(stripped)].count("\n")


def _key_of_bad_line(text):
    match = re.match(r"\s*(?:export\s+)?([^=\s#]+)\s*=", text)
    return match.group(1) if match else None


def parse(text, path="<string>"):
    """Parse dotenv text. Returns ``(entries, header_annotations, findings)``.

    ``findings`` holds syntax problems (dotenv parse errors, a key without ``=``, an
    invalid variable name). Comment lines directly above a key (no blank line between)
    are its documentation and annotations.
    """
    from dotenv.parser import parse_stream

    entries, findings, header = [], [], []
    pending_doc, pending_ann = [], []
    for binding in parse_stream(io.StringIO(text)):
        line = _first_line(binding)
        raw = binding.original.string
        if binding.error:
            key = _key_of_bad_line(raw)
            findings.append(finding(path, line, key, "syntax",
                                    "dotenv cannot parse this line (unterminated quote or stray "
                                    "text?); write KEY=value, quote values with spaces"))
            pending_doc, pending_ann = [], []
            continue
        if binding.key is None:
            stripped = raw.strip()
            if "\n" in raw[:len(raw) - len(raw.lstrip())] or not stripped:
                # a blank line ends the comment block above the next key
                header.extend(pending_ann)
                pending_doc, pending_ann = [], []
            if stripped.startswith("#"):
                match = ANNOTATION_RE.match(stripped)
                if match:
                    pending_ann.append((match.group(1), match.group(2), line))
                else:
                    doc = stripped.lstrip("#").strip()
                    if doc and not set(doc) <= set("-=#"):
                        pending_doc.append(doc)
            continue
        key = binding.key
        doc = list(pending_doc)
        inline = re.search(r"\s#\s*(.*)$", raw.rstrip("\r\n")) if binding.value is not None \
            and not raw.split("=", 1)[-1].lstrip().startswith(("'", '"')) else None
        if inline and inline.group(1).strip():
            doc.append(inline.group(1).strip())
        has_equals = binding.value is not None
        entries.append(Entry(key, line, binding.value if has_equals else "", has_equals, doc,
                             list(pending_ann)))
        pending_doc, pending_ann = [], []
        if not has_equals:
            findings.append(finding(path, line, key, "syntax",
                                    "'%s' has no '=': write %s= for an empty value" % (key, key)))
        elif not KEY_RE.match(key):
            findings.append(finding(path, line, key, "syntax",
                                    "'%s' is not a valid variable name (letters, digits, _; "
                                    "not starting with a digit)" % key))
    header.extend(pending_ann)
    return entries, header, findings


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


class Schema(object):
    """The master schema: variables with their annotations, plus its own findings."""

    def __init__(self, path, text=None, display=None):
        self.path = path
        self.display = display or path
        entries, header, self.findings = parse(read(path) if text is None else text, self.display)
        self.environments = list(DEFAULT_ENVIRONMENTS)
        self.variables = {}
        self.order = []
        for name, arg, line in header:
            if name == "environments":
                self.environments = _split(arg)
            else:
                self.findings.append(finding(self.display, line, None, "annotation",
                                             "@%s is not attached to a variable (no blank line "
                                             "between the comment and KEY=)" % name))
        self.findings.extend(_duplicates(entries, self.display))
        for entry in entries:
            if entry.key in self.variables or not entry.has_equals:
                continue
            var = {"name": entry.key, "line": entry.line, "doc": " ".join(entry.doc),
                   "secret": False, "exclude": []}
            for name, arg, line in entry.annotations:
                if name == "secret":
                    var["secret"] = True
                elif name == "exclude":
                    var["exclude"] = _split(arg)
                    for env in var["exclude"]:
                        if env not in self.environments:
                            self.findings.append(finding(
                                self.display, line, entry.key, "annotation",
                                "@exclude names unknown environment '%s'; known: %s (declare "
                                "it with @environments)" % (env, ", ".join(self.environments))))
                elif name == "environments":
                    self.environments = _split(arg)
                else:
                    self.findings.append(finding(
                        self.display, line, entry.key, "annotation",
                        "unknown annotation @%s; use one of: @%s" % (name, ", @".join(KNOWN_ANNOTATIONS))))
            if not var["doc"]:
                self.findings.append(finding(self.display, entry.line, entry.key, "undocumented",
                                             "%s has no description: add a comment line above it "
                                             "saying what it is and who reads it" % entry.key))
            if var["secret"]:
                self.findings.extend(_secret_value(entry, self.display, literal_ok=False))
            self.variables[entry.key] = var
            self.order.append(entry.key)

    def secret_names(self):
        return [n for n in self.order if self.variables[n]["secret"]]

    def required_for(self, environment):
        return [n for n in self.order if environment not in self.variables[n]["exclude"]]


def _split(arg):
    return [part for part in re.split(r"[\s,]+", arg or "") if part]


def _duplicates(entries, path):
    first = {}
    out = []
    for entry in entries:
        if entry.key in first:
            out.append(finding(path, entry.line, entry.key, "duplicate",
                               "%s is defined again (first at line %d); keep one"
                               % (entry.key, first[entry.key])))
        else:
            first[entry.key] = entry.line
    return out


def _secret_value(entry, path, literal_ok):
    """Findings for a secret variable holding a value that must not be committed.

    Allowed: empty, App Platform bindings (``${db.PASSWORD}``), placeholders
    (``<set-in-do-secrets>``, ``sk_test_...``). When ``literal_ok`` (development
    environments), other literals pass unless they look like a real credential.
    """
    value = (entry.value or "").strip()
    rest = BINDING_RE.sub("", value).strip()
    if not rest or PLACEHOLDER_RE.match(rest):
        return []
    kind = looks_like_secret(rest)
    if not kind and BINDING_RE.search(value):
        return []  # a URL assembled from bindings: redis://:${redis.PASSWORD}@${redis.HOSTNAME}
    if kind:
        message = "secret %s holds a value that looks like a real credential (%s)" % (entry.key, kind)
    elif literal_ok:
        return []
    else:
        message = "secret %s holds a literal value" % entry.key
    return [finding(path, entry.line, entry.key, "secret-value",
                    message + ": leave it empty, use a ${component.VAR} binding or a "
                    "<placeholder>, and rotate it if it was real")]


def environment_of(path):
    """'.env.staging.example' -> 'staging'; None when the name does not say."""
    match = ENV_FILE_RE.match(os.path.basename(path))
    if not match or (match.group(1) == "example" and not match.group(2)):
        return None  # .env.example is the schema itself
    return match.group(1)


def check_file(schema, path, environment, display=None, example=True, dev_environments=("local",),
               text=None):
    """Findings for one environment file against ``schema``."""
    display = display or path
    entries, _header, findings = parse(read(path) if text is None else text, display)
    findings.extend(_duplicates(entries, display))
    if environment not in schema.environments:
        findings.append(finding(display, None, None, "environment",
                                "unknown environment '%s' (known: %s): name the file "
                                ".env.<environment>.example or pass its environment"
                                % (environment, ", ".join(schema.environments))))
    defined = set()
    for entry in entries:
        if not entry.has_equals:
            continue
        defined.add(entry.key)
        var = schema.variables.get(entry.key)
        if var is None:
            findings.append(finding(display, entry.line, entry.key, "unknown",
                                    "%s is not declared in %s: declare and document it there, "
                                    "or remove it" % (entry.key, schema.display)))
            continue
        if environment in var["exclude"]:
            findings.append(finding(display, entry.line, entry.key, "excluded",
                                    "%s is excluded from %s by the schema (@exclude, %s line %d): "
                                    "remove it" % (entry.key, environment, schema.display, var["line"])))
        if var["secret"] and example:
            findings.extend(_secret_value(entry, display, literal_ok=environment in dev_environments))
    for name in schema.required_for(environment):
        if name not in defined:
            findings.append(finding(display, None, name, "missing",
                                    "%s is missing (declared in %s line %d): add %s=, or mark it "
                                    "'@exclude %s' in the schema"
                                    % (name, schema.display, schema.variables[name]["line"], name,
                                       environment)))
    return findings


def discover(schema_path):
    """The environment files beside the schema: .env.<environment>.example."""
    folder = os.path.dirname(os.path.abspath(schema_path))
    out = []
    for name in sorted(os.listdir(folder)):
        env = environment_of(name)
        if env and name.endswith(".example") and os.path.join(folder, name) != os.path.abspath(schema_path):
            out.append({"path": os.path.join(folder, name), "environment": env})
    return out


def sort_findings(findings):
    return sorted(findings, key=lambda f: (f["file"], f["line"] or 0, f["key"] or "", f["check"]))


def format_finding(f):
    where = "%s:%s" % (f["file"], f["line"] if f["line"] else "-")
    return "%s: %s%s" % (where, ("%s: " % f["key"]) if f["key"] else "", f["message"])
