# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Waiting for a Tachyon /health endpoint: the health_check module's logic.

Shared by the module (plugins/modules/health_check.py) and its action plugin, which runs it
in the worker process when the task runs on the controller (no module process to start).
"""
from __future__ import annotations

import json
import re
import time
from urllib.error import HTTPError, URLError

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import open_url

from ansible_collections.tachyon.infra.plugins.module_utils._common import deadline
from ansible_collections.tachyon.infra.plugins.module_utils._common.patterns import same_commit
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_data, redact_text, redact_url

ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True),
    expected_version=dict(type="str"),
    checks=dict(type="list", elements="str", default=["postgres", "redis"]),
    consecutive=dict(type="int", default=2),
    timeout=dict(type="float", default=300.0),
    initial_interval=dict(type="float", default=0.25),
    max_interval=dict(type="float", default=0.5),
    backoff=dict(type="float", default=1.5),
    confirm_interval=dict(type="float", default=0.25),
    request_timeout=dict(type="float", default=10.0),
    validate_certs=dict(type="bool", default=True),
    headers=dict(type="dict", no_log=True),
    skip_in_check_mode=dict(type="bool", default=False),
)


def version_matches(reported, expected):
    """Equal, or both SHAs (>= 7 hex) with one a prefix of the other."""
    if expected in (None, ""):
        return True
    if reported is None:
        return False
    reported, expected = str(reported).strip(), str(expected).strip()
    return reported == expected or same_commit(reported, expected)


def evaluate(payload, expected_version, checks):
    """Return None when healthy, else a one-line description of what is wrong."""
    if not isinstance(payload, dict):
        return "the response is not a JSON object"
    problems = []
    if payload.get("status") != "healthy":
        problems.append("status=%s" % payload.get("status"))
    payload_checks = payload.get("checks") if isinstance(payload.get("checks"), dict) else {}
    for name in checks:
        state = payload_checks.get(name)
        if state != "connected":
            problems.append("checks.%s=%s" % (name, state if state is not None else "missing"))
    if not version_matches(payload.get("version"), expected_version):
        problems.append("version was %s, expected %s" % (payload.get("version"), expected_version))
    return ", ".join(problems) or None


def poll_once(url, headers, validate_certs, timeout):
    """One GET. Returns (payload_or_None, problem_or_None)."""
    def get():
        answer = open_url(url, method="GET", headers=headers, validate_certs=validate_certs,
                          timeout=timeout, follow_redirects="safe")
        return answer, deadline.read_capped(answer, "the health request")
    try:
        # timeout bounds each read; the deadline the whole request (a trickled answer is cut off)
        # (at least 1 s: the last poll's read timeout is what is left of the health timeout)
        response, body = deadline.call(get, max(timeout, 1.0), "the health request", "the health_check request_timeout, capped by the time left")
    except (deadline.DeadlineExceeded, deadline.AnswerTooLarge) as exc:
        return None, str(exc)
    except HTTPError as exc:
        return None, "HTTP %s" % exc.code
    except URLError as exc:
        return None, "connection failed (%s)" % redact_text(to_text(getattr(exc, "reason", exc)))
    except (OSError, ValueError) as exc:  # reset, timeout, bad URL
        return None, "connection failed (%s)" % redact_text(to_text(exc))
    try:
        return json.loads(to_text(body)), None
    except ValueError:
        return None, "HTTP %s but the body is not JSON" % getattr(response, "status", 200)


def wait_healthy(url, expected_version=None, checks=("postgres", "redis"), consecutive=2,
                 timeout=300.0, initial_interval=0.25, max_interval=0.5, backoff=1.5,
                 confirm_interval=0.25, request_timeout=10.0, validate_certs=True, headers=None,
                 clock=time.monotonic, sleep=time.sleep):
    """Poll until healthy. Returns a result dict with ``ok`` True/False.

    Bounded by ``timeout``: each request's timeout is capped by the time left and no pause
    runs past the deadline.
    """
    start = clock()
    deadline = start + timeout
    interval = initial_interval
    attempts = 0
    streak = 0
    first_healthy = None
    payload = None
    last_problem = "no response yet"
    while True:
        remaining = deadline - clock()
        attempts += 1
        payload_now, problem = poll_once(url, headers or {}, validate_certs,
                                         max(0.1, min(request_timeout, remaining)))
        if payload_now is not None:
            payload = payload_now
            problem = evaluate(payload_now, expected_version, checks)
        now = clock()
        if problem is None:
            streak += 1
            if first_healthy is None:
                first_healthy = now - start
            if streak >= consecutive:
                return dict(ok=True, status="healthy", attempts=attempts, payload=payload,
                            elapsed=round(now - start, 3),
                            first_healthy_after=round(first_healthy, 3))
            wait = confirm_interval
        else:
            streak = 0
            first_healthy = None
            last_problem = problem
            wait = interval
            interval = min(max_interval, interval * backoff)
        remaining = deadline - now
        if remaining <= 0:
            if streak:
                last_problem = "healthy %d time(s) in a row, %d needed" % (streak, consecutive)
            return dict(ok=False, attempts=attempts, payload=payload, last_state=last_problem,
                        elapsed=round(now - start, 3))
        sleep(min(wait, remaining))


def param_error(p):
    """What is wrong with the (validated) parameters, or None."""
    if not re.match(r"^https?://", p["url"]):
        return "url %r must start with http:// or https://" % p["url"]
    for name in ("consecutive", "timeout", "initial_interval", "max_interval", "request_timeout"):
        if p[name] <= 0:
            return "%s must be greater than 0 (got %s)" % (name, p[name])
    if p["backoff"] < 1:
        return "backoff must be at least 1 (got %s)" % p["backoff"]
    return None


def check(p, check_mode=False, diff=False):  # pylint: disable=unused-argument  # no diff to show
    """The whole task: (failed, result) for the parameters ``p`` (see ARGUMENT_SPEC)."""
    error = param_error(p)
    if error:
        return True, dict(changed=False, msg=error)
    if check_mode and p["skip_in_check_mode"]:
        return False, dict(changed=False, skipped=True, status="skipped", attempts=0, payload=None,
                           msg="health check skipped in check mode (skip_in_check_mode=true)")
    result = wait_healthy(
        p["url"], expected_version=p["expected_version"], checks=p["checks"],
        consecutive=p["consecutive"], timeout=p["timeout"],
        initial_interval=p["initial_interval"], max_interval=p["max_interval"],
        backoff=p["backoff"], confirm_interval=p["confirm_interval"],
        request_timeout=p["request_timeout"], validate_certs=p["validate_certs"],
        headers=p["headers"])
    result["changed"] = False
    if not result.pop("ok"):
        result["msg"] = ("%s not healthy after %ss (%d attempts): timed out waiting for %s; last state: %s. "
                         "Check the app's deploy and runtime logs; raise timeout if it is only slow to start."
                         % (redact_url(p["url"]), p["timeout"], result["attempts"], expectation(p),
                            result["last_state"]))
        return True, redact_data(result)
    return False, redact_data(result)


def expectation(p):
    """What a healthy answer must show, in words (for the timeout message)."""
    parts = ["status healthy"]
    if p.get("checks"):
        parts.append("%s connected" % ", ".join(p["checks"]))
    if p.get("expected_version"):
        parts.append("version %s" % p["expected_version"])
    text = ", ".join(parts)
    if p.get("consecutive", 1) > 1:
        text += " on %d polls in a row" % p["consecutive"]
    return text
