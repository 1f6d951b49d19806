#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: health_check
short_description: Wait until a Tachyon /health endpoint is healthy and runs the expected version
version_added: 0.1.0
description:
  - Polls O(url) until the JSON payload says C(status=healthy), every check in O(checks) is
    C(connected), and C(version) equals O(expected_version), for O(consecutive) polls in a row.
  - The first polls are quick (O(initial_interval)); the interval then grows by O(backoff)
    up to O(max_interval). After a healthy poll the next one comes after O(confirm_interval).
  - Fails after O(timeout) seconds with the last observed state (HTTP status, connection
    error, stale version or disconnected check) and the number of attempts.
  - 'The payload is the one the Tachyon API serves, for example
    C({"status": "healthy", "version": "<sha>", "checks": {"postgres": "connected", "redis": "connected"}}).'
author:
  - Tachyon platform team
options:
  url:
    description: The health endpoint, e.g. C(https://api.example.com/health).
    type: str
    required: true
  expected_version:
    description:
      - The version the payload must report (the deployed api image tag, usually its git SHA).
      - When both are hexadecimal SHAs of at least 7 characters, one being a prefix of the
        other matches (C(9f8e7d6) matches C(9f8e7d6c...)); anything else must be equal.
      - Omit to accept any version.
    type: str
  checks:
    description: Names in the payload's C(checks) that must each be C(connected).
    type: list
    elements: str
    default: [postgres, redis]
  consecutive:
    description: Healthy polls needed in a row.
    type: int
    default: 2
  timeout:
    description: Seconds to wait overall before failing.
    type: float
    default: 300
  initial_interval:
    description: Seconds between the first polls.
    type: float
    default: 0.25
  max_interval:
    description:
      - Cap of the interval between polls, in seconds.
      - The default keeps the time from "healthy" to this task noticing under a second
        (measured by C(make bench)); polling an app's own health endpoint twice a second is
        negligible load. Raise it for endpoints behind strict rate limits.
    type: float
    default: 0.5
  backoff:
    description: Factor the interval grows by after each unhealthy poll.
    type: float
    default: 1.5
  confirm_interval:
    description: Seconds between a healthy poll and the next (confirming) one.
    type: float
    default: 0.25
  request_timeout:
    description: Seconds one HTTP request may take (capped by the time left).
    type: float
    default: 10
  validate_certs:
    description: Verify the TLS certificate of O(url).
    type: bool
    default: true
  headers:
    description: Extra request headers (for example an auth header); never logged.
    type: dict
  skip_in_check_mode:
    description:
      - The module only reads, so by default it polls in check mode too. Set C(true) to skip
        polling in check mode (for example after a deploy step that check mode did not run).
    type: bool
    default: false
notes:
  - Never changes anything; C(changed) is always false.
attributes:
  check_mode:
    support: full
    description: Polls in check mode too (read-only) unless O(skip_in_check_mode=true).
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: Wait for staging to serve the new api build
  tachyon.infra.health_check:
    url: "https://{{ app_live_domain }}/health"
    expected_version: "{{ release.services['tachyon-api'].tag }}"
    timeout: 600
  register: health

- name: Local stack, any version, one healthy poll
  tachyon.infra.health_check:
    url: http://localhost:4000/health
    consecutive: 1
    timeout: 120
"""

RETURN = r"""
status:
  description: C(healthy) on success; C(skipped) when skipped in check mode.
  returned: always
  type: str
attempts:
  description: Number of HTTP requests made.
  returned: always
  type: int
elapsed:
  description: Seconds from the first poll until the last of the O(consecutive) healthy polls
    (on failure, until giving up).
  returned: always
  type: float
first_healthy_after:
  description: Seconds from the first poll until the first healthy poll.
  returned: success
  type: float
payload:
  description: The last payload received (JSON object), or null.
  returned: always
  type: dict
last_state:
  description: 'The last observed problem (on failure), e.g. C(HTTP 503) or C(version was 1a2b3c4, expected 9f8e7d6).'
  returned: failure
  type: str
"""

import json
import re
import time
from urllib.error import HTTPError, URLError

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import open_url

HEX_RE = re.compile(r"^[0-9a-fA-F]{7,40}$")


def version_matches(reported, expected):
    """Equal, or both SHAs (>= 7 hex) with one a prefix of the other."""
    if expected in (None, ""):
        return True
    if reported is None:
        return False
    reported, expected = str(reported).strip(), str(expected).strip()
    if HEX_RE.match(reported) and HEX_RE.match(expected):
        reported, expected = reported.lower(), expected.lower()
        return reported.startswith(expected) or expected.startswith(reported)
    return reported == expected


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
    try:
        response = open_url(url, method="GET", headers=headers, validate_certs=validate_certs,
                            timeout=timeout, follow_redirects="safe")
        body = response.read()
    except HTTPError as exc:
        return None, "HTTP %s" % exc.code
    except URLError as exc:
        return None, "connection failed (%s)" % to_text(getattr(exc, "reason", exc))
    except (OSError, ValueError) as exc:  # reset, timeout, bad URL
        return None, "connection failed (%s)" % to_text(exc)
    try:
        return json.loads(to_text(body)), None
    except ValueError:
        return None, "HTTP %s but the body is not JSON" % getattr(response, "status", 200)


def wait_healthy(url, expected_version=None, checks=("postgres", "redis"), consecutive=2,
                 timeout=300.0, initial_interval=0.25, max_interval=0.5, backoff=1.5,
                 confirm_interval=0.25, request_timeout=10.0, validate_certs=True, headers=None,
                 clock=time.monotonic, sleep=time.sleep):
    """Poll until healthy. Returns a result dict with ``ok`` True/False."""
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
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
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not re.match(r"^https?://", p["url"]):
        module.fail_json(msg="url %r must start with http:// or https://" % p["url"])
    for name in ("consecutive", "timeout", "initial_interval", "max_interval", "request_timeout"):
        if p[name] <= 0:
            module.fail_json(msg="%s must be greater than 0 (got %s)" % (name, p[name]))
    if p["backoff"] < 1:
        module.fail_json(msg="backoff must be at least 1 (got %s)" % p["backoff"])
    if module.check_mode and p["skip_in_check_mode"]:
        module.exit_json(changed=False, skipped=True, status="skipped", attempts=0, payload=None,
                         msg="health check skipped in check mode (skip_in_check_mode=true)")
    result = wait_healthy(
        p["url"], expected_version=p["expected_version"], checks=p["checks"],
        consecutive=p["consecutive"], timeout=p["timeout"],
        initial_interval=p["initial_interval"], max_interval=p["max_interval"],
        backoff=p["backoff"], confirm_interval=p["confirm_interval"],
        request_timeout=p["request_timeout"], validate_certs=p["validate_certs"],
        headers=p["headers"])
    ok = result.pop("ok")
    if not ok:
        module.fail_json(
            msg="%s not healthy after %ss (%d attempts): %s. Check the app's deploy and runtime "
                "logs; raise timeout if it is only slow to start."
                % (p["url"], p["timeout"], result["attempts"], result["last_state"]),
            changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
