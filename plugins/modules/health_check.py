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
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.no_diff
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
  - On a local connection without become, async or a task C(environment), an action plugin of
    the same name runs the module's code (module_utils) in the Ansible worker process instead of
    starting a module process, which saves about half a second per task; anywhere else the
    module runs as usual. Arguments, results and failures are the same either way.
attributes:
  check_mode:
    support: full
    details: Polls in check mode too (read-only) unless O(skip_in_check_mode=true).
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

from ansible.module_utils.basic import AnsibleModule

# the logic lives in module_utils (the action plugin runs it on the controller); these names
# stay importable from the module
from ansible_collections.tachyon.infra.plugins.module_utils._platform.health import (  # noqa: F401 pylint: disable=unused-import
    ARGUMENT_SPEC,
    check,
    evaluate,
    poll_once,
    version_matches,
    wait_healthy,
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    failed, result = check(module.params, module.check_mode)
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
