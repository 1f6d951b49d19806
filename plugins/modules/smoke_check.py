#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: smoke_check
short_description: Run a list of HTTP smoke checks against an app's live URL
version_added: 0.3.0
description:
  - Runs every check of O(checks) once against O(url) (the app's live URL) and fails when any
    answers another status than expected or its JSON body lacks a field value the check requires.
    All checks run; the failure names each failing check with what it got.
  - The deploy role runs it after the health check; a failure counts like a failed health check
    (the deploy is rolled back).
  - A malformed check list fails before any request, naming the check and the field.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.no_diff
options:
  url:
    description: The live URL the check paths are appended to (no query string).
    type: str
    required: true
  checks:
    description:
      - 'The checks: each C({name, path, method, status, json, timeout}). C(path) is required
        (starts with C(/)); C(method) defaults to C(GET), C(status) to C(200), C(timeout) to 10
        seconds; C(json) maps dotted paths in the response body (C(checks.postgres)) to the
        values they must hold.'
    type: list
    elements: raw
    required: true
  skip_in_check_mode:
    description: Skip the requests in check mode (after a deploy that check mode did not run).
    type: bool
    default: false
  validate_only:
    description: Only validate O(checks), send no request (the deploy role does it before deploying).
    type: bool
    default: false
notes:
  - Never changes anything on the app; C(changed) is always false. Only read-only methods belong
    in a smoke check list.
attributes:
  check_mode:
    support: full
    details: Runs in check mode too unless O(skip_in_check_mode=true); the check list is validated either way.
"""

EXAMPLES = r"""
- name: Smoke checks of the live app
  tachyon.infra.smoke_check:
    url: "{{ deploy_result.live_url }}"
    checks:
      - {name: health payload, path: /health, status: 200, json: {status: healthy, checks.postgres: connected}}
      - {name: unknown route is a 404, path: /no-such-route, status: 404, timeout: 5}
"""

RETURN = r"""
results:
  description: One entry per check, C({name, method, path, status, ok, problem}).
  returned: always
  type: list
  elements: dict
failed_checks:
  description: The names of the checks that failed.
  returned: always
  type: list
  elements: str
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._platform import smoke
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_url


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            checks=dict(type="list", elements="raw", required=True),
            skip_in_check_mode=dict(type="bool", default=False),
            validate_only=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    url = module.params["url"]
    if not re.match(r"^https?://[^?#]+$", url):
        module.fail_json(msg="url %s must be an http(s) URL without a query string (the app's live URL)"
                             % redact_url(url), results=[], failed_checks=[])
    try:
        checks = smoke.validate(module.params["checks"])
    except smoke.SmokeCheckError as exc:
        module.fail_json(msg="%s. Fix tachyon_smoke_checks in the inventory (group_vars)." % exc,
                         results=[], failed_checks=[])
    if module.params["validate_only"] or (module.check_mode and module.params["skip_in_check_mode"]):
        module.exit_json(changed=False, skipped=True, results=[], failed_checks=[],
                         msg="%d smoke check(s) valid; not run%s" % (
                             len(checks), "" if module.params["validate_only"] else " in check mode"))
    results, failed = smoke.run_checks(url, checks)
    names = [r["name"] for r in failed]
    if failed:
        module.fail_json(
            msg="smoke check(s) failed against %s: %s (%d of %d passed)" % (
                redact_url(url), "; ".join("%s (%s %s): %s" % (r["name"], r["method"], r["path"], r["problem"])
                                           for r in failed), len(results) - len(failed), len(results)),
            changed=False, results=results, failed_checks=names)
    module.exit_json(changed=False, results=results, failed_checks=names,
                     msg="%d smoke check(s) passed: %s" % (len(results), ", ".join(r["name"] for r in results)))


if __name__ == "__main__":
    main()
