# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Smoke checks: a list of HTTP checks run against an app's live URL after its health check.

A check is ``{name, path, method, status, json, timeout}``: ``path`` (required, starts with
``/``), ``method`` (default GET), ``status`` (the expected HTTP status, default 200), ``json``
(dotted path in the JSON body -> the value it must hold, e.g. ``{"checks.postgres":
"connected"}``), ``timeout`` (seconds, default 10), ``name`` (default ``METHOD path``).
"""
from __future__ import annotations

import json
from urllib.error import HTTPError, URLError

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import open_url

from ansible_collections.tachyon.infra.plugins.module_utils._common import deadline

from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text

METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
KEYS = ("name", "path", "method", "status", "json", "timeout")
SHAPE = ("each check is a mapping {path: /health, method: GET, status: 200, json: {status: healthy}, "
         "timeout: 10} (path required; name, method, status, json and timeout optional)")
MISSING = object()


class SmokeCheckError(ValueError):
    """The check list is malformed (the message names the check and the field)."""


def validate(checks, what="tachyon_smoke_checks"):
    """The checks with defaults filled in, or SmokeCheckError naming every problem."""
    if checks is None:
        return []
    if not isinstance(checks, list):
        raise SmokeCheckError("%s must be a list of checks, got %s; %s" % (what, type(checks).__name__, SHAPE))
    problems, out = [], []
    for index, check in enumerate(checks):
        where = "%s[%d]" % (what, index)
        if not isinstance(check, dict):
            problems.append("%s is a %s, not a mapping" % (where, type(check).__name__))
            continue
        unknown = sorted(set(check) - set(KEYS))
        if unknown:
            problems.append("%s has unknown key(s) %s (known: %s)" % (where, ", ".join(unknown), ", ".join(KEYS)))
        path = check.get("path")
        if not isinstance(path, str) or not path.startswith("/") or "?" in path or "#" in path:
            problems.append("%s: path must be a string starting with / without a query string, got %r"
                            % (where, path))
        method = check.get("method", "GET")
        if not isinstance(method, str) or method.upper() not in METHODS:
            problems.append("%s: method must be one of %s, got %r" % (where, ", ".join(METHODS), method))
            method = "GET"
        status = check.get("status", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            problems.append("%s: status must be an HTTP status code (100-599), got %r" % (where, status))
        fields = check.get("json", {})
        if not isinstance(fields, dict) or not all(isinstance(k, str) and k for k in fields):
            problems.append("%s: json must map dotted paths (e.g. checks.postgres) to the values they must "
                            "hold, got %r" % (where, fields))
            fields = {}
        timeout = check.get("timeout", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            problems.append("%s: timeout must be a number of seconds > 0, got %r" % (where, timeout))
        name = check.get("name") or "%s %s" % (str(method).upper(), path)
        if not isinstance(name, str):
            problems.append("%s: name must be a string" % where)
        out.append({"name": name, "path": path, "method": str(method).upper(), "status": status,
                    "json": fields, "timeout": timeout})
    if problems:
        raise SmokeCheckError("malformed smoke checks: %s; %s" % ("; ".join(problems), SHAPE))
    return out


def lookup(body, dotted):
    """The value at ``a.b.c`` in a JSON body (list items by index), or MISSING."""
    value = body
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def request(url, method, timeout):
    """(status, body text or None, problem or None)."""
    def send():
        response = open_url(url, method=method, timeout=timeout, follow_redirects="none",
                            headers={"Accept": "application/json"})
        return response.status, to_text(deadline.read_capped(response, "the smoke check request")), None
    try:
        # timeout bounds each read; the deadline the whole request (a trickled answer is cut off)
        return deadline.call(send, timeout, "the smoke check request", "the check's timeout")
    except (deadline.DeadlineExceeded, deadline.AnswerTooLarge) as exc:
        return None, None, str(exc)
    except HTTPError as exc:
        try:
            body = to_text(deadline.read_capped(exc, "the smoke check request"))
        except (OSError, ValueError, deadline.AnswerTooLarge):
            body = None
        return exc.code, body, None
    except URLError as exc:
        return None, None, "connection failed (%s)" % redact_text(to_text(getattr(exc, "reason", exc)))
    except (OSError, ValueError) as exc:
        return None, None, "connection failed (%s)" % redact_text(to_text(exc))


def run_check(base_url, check, fetch=request):
    """One check against ``base_url``: {name, method, path, ok, status, problem}."""
    status, body, problem = fetch(base_url.rstrip("/") + check["path"], check["method"], check["timeout"])
    result = {"name": check["name"], "method": check["method"], "path": check["path"], "status": status}
    if problem is None and status != check["status"]:
        problem = "HTTP %s, expected %s" % (status, check["status"])
    if problem is None and check["json"]:
        try:
            data = json.loads(body or "")
        except ValueError:
            data = MISSING
            problem = "the body is not JSON (fields %s expected)" % ", ".join(sorted(check["json"]))
        if data is not MISSING:
            wrong = []
            for key in sorted(check["json"]):
                got = lookup(data, key)
                if got is MISSING:
                    wrong.append("%s missing (expected %s)" % (key, json.dumps(check["json"][key])))
                elif got != check["json"][key]:
                    wrong.append("%s=%s (expected %s)" % (key, json.dumps(got)[:80], json.dumps(check["json"][key])))
            problem = ", ".join(wrong) or None
    result["ok"] = problem is None
    result["problem"] = problem
    return result


def run_checks(base_url, checks, fetch=request):
    """Every check (all run, none stops the others); (results, failed)."""
    results = [run_check(base_url, check, fetch) for check in checks]
    return results, [r for r in results if not r["ok"]]
