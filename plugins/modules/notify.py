#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: notify
short_description: Tell webhooks about a deploy or a drift report (Slack-compatible or generic JSON)
version_added: "0.3.0"
description:
  - POSTs one JSON payload per webhook of O(webhooks) that subscribes to O(event) - a
    Slack-compatible one (C(text) plus Block Kit C(blocks)) or a generic one (C(source),
    C(event), C(outcome), C(environment), C(release), C(shas), C(deployed_by), C(approved_by),
    C(deployment_id), C(duration_seconds), C(run_url), C(app_url), C(message), C(at)).
  - Bounded retries - at most 3 attempts per webhook (on no response, 408, 429 and 5xx), 0.5 s then
    1 s apart, each request bounded by O(timeout).
  - A notification that cannot be delivered never fails the task - it is returned in
    RV(failed) and reported as a warning naming the webhook (its O(webhooks[].name), or its
    position and host), never its URL.
  - Webhook URLs are credentials - no_log, never in a payload, a message or a result. Payload
    texts pass through the collection's redaction (URL query strings, tokens); payloads carry no
    env value or secret.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.no_diff
options:
  webhooks:
    description: Where to send (the inventory's C(tachyon_notify_webhooks)). An empty list sends nothing.
    type: list
    elements: dict
    required: true
    suboptions:
      url:
        description: The webhook URL (a secret - vault or an environment lookup in the inventory).
        type: str
        required: true
      format:
        description: V(slack) for Slack incoming webhooks (and Slack-compatible chat tools), V(json) for the generic payload.
        type: str
        choices: [slack, json]
        default: json
      events:
        description: The events this webhook wants; empty or omitted means all of them.
        type: list
        elements: str
        choices: [started, succeeded, failed, rolled_back, frozen, drift_found]
      name:
        description: How results and warnings name this webhook (default - its position and host).
        type: str
  event:
    description: What happened.
    type: str
    required: true
    choices: [started, succeeded, failed, rolled_back, frozen, drift_found]
  environment:
    description: The environment (staging or production).
    type: str
    required: true
  release:
    description: The release version.
    type: raw
  services:
    description: Service name to its pin (a dict with C(sha), C(tag) or C(digest), or a SHA string).
    type: dict
  deployed_by:
    description: Who ran it.
    type: raw
  approved_by:
    description: The production approver.
    type: raw
  deployment_id:
    description: The App Platform deployment concerned.
    type: raw
  started_at:
    description: When the deploy started (seconds since the epoch); the payload's C(duration_seconds) is counted from it.
    type: float
  run_url:
    description:
      - Link to the run (e.g. the AWX job). Its query string is cut.
      - Default - in GitHub Actions, the workflow run (C(GITHUB_SERVER_URL)/C(GITHUB_REPOSITORY)/actions/runs/C(GITHUB_RUN_ID)
        of the module's environment); otherwise none.
    type: raw
  app_url:
    description: Link to the app (its live URL). Its query string is cut.
    type: raw
  details:
    description:
      - Details (the failure, the drift summary), sent as the payload's C(message). Redacted; at
        most 1500 characters.
      - Not named C(message), a name ansible-core reserves for itself.
    type: raw
  timeout:
    description:
      - Seconds one request may take, all of it (connect, send, the whole answer) - an overall
        deadline, not a per-read timeout. At most 10 by default.
    type: float
    default: 5
  validate_certs:
    description: Verify the webhook's TLS certificate.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: Sends nothing in check mode; returns the payload it would send.
seealso:
  - module: tachyon.infra.app_deploy
  - module: tachyon.infra.app_drift
"""

EXAMPLES = r"""
- name: Tell the team the staging deploy succeeded
  tachyon.infra.notify:
    webhooks: "{{ tachyon_notify_webhooks }}"
    event: succeeded
    environment: staging
    release: 0.2.0
    services: {tachyon-api: {sha: 4a091424887308027935eb247097d4ffd77c8f99}}
    deployed_by: alice
    run_url: "https://github.com/tachyonapp/tachyon-infra/actions/runs/1"
    app_url: https://tachyon-staging.ondigitalocean.app

# inventory (group_vars): the URLs come from the environment, never from git
# tachyon_notify_webhooks:
#   - name: team channel
#     url: "{{ lookup('ansible.builtin.env', 'TACHYON_SLACK_WEBHOOK') }}"
#     format: slack
#     events: [succeeded, failed, rolled_back, frozen, drift_found]
#   - url: "{{ lookup('ansible.builtin.env', 'TACHYON_EVENTS_WEBHOOK') }}"
#     format: json
"""

RETURN = r"""
payload:
  description: The generic JSON payload (the Slack one is made from it). No secret.
  returned: always
  type: dict
sent:
  description: The webhooks that took the payload - C(webhook) (name), C(attempts), C(status).
  returned: always
  type: list
  elements: dict
failed:
  description: The webhooks that did not - C(webhook), C(attempts), C(error) (no URL).
  returned: always
  type: list
  elements: dict
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import fetch_url

from ansible_collections.tachyon.infra.plugins.module_utils._common import deadline
from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import json_text
from ansible_collections.tachyon.infra.plugins.module_utils._notify import webhooks as notify
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_module_results
from ansible_collections.tachyon.infra.plugins.module_utils._common.strict_input import string_options_error


def poster(module):
    def request(url, body):
        resp, info = fetch_url(module, url, data=json_text(body), method="POST",
                               headers={"Content-Type": "application/json"},
                               timeout=module.params["timeout"], use_proxy=True)
        if resp is not None:
            resp.read()
        return info

    def post(url, body):
        # one overall deadline per request (a webhook that trickles its answer is cut off)
        try:
            info = deadline.call(lambda: request(url, body), module.params["timeout"], "the webhook request",
                                 "the notify module's timeout option")
        except deadline.DeadlineExceeded as exc:
            return None, str(exc)
        status = info.get("status")
        if status is None or status < 0:
            # -1: no response (connection refused, timeout); the msg names the error, maybe the URL
            return None, info.get("msg") or "no response"
        return status, None
    return post


TEXT_OPTIONS = ("release", "deployed_by", "approved_by", "deployment_id", "run_url", "app_url", "details")


def github_run_url(environ):
    """The GitHub Actions run this module runs in, or None."""
    parts = [environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    return "%s/%s/actions/runs/%s" % tuple(parts) if all(parts) else None


def main():
    module = redact_module_results(AnsibleModule(
        argument_spec=dict(
            webhooks=dict(type="list", elements="dict", required=True, options=dict(
                url=dict(type="str", required=True, no_log=True),
                format=dict(type="str", choices=list(notify.FORMATS), default="json"),
                events=dict(type="list", elements="str", choices=list(notify.EVENTS)),
                name=dict(type="str"),
            )),
            event=dict(type="str", required=True, choices=list(notify.EVENTS)),
            environment=dict(type="str", required=True),
            release=dict(type="raw"),
            services=dict(type="dict"),
            deployed_by=dict(type="raw"),
            approved_by=dict(type="raw"),
            deployment_id=dict(type="raw"),
            started_at=dict(type="float"),
            run_url=dict(type="raw"),
            app_url=dict(type="raw"),
            details=dict(type="raw"),
            timeout=dict(type="float", default=5),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    ))
    p = module.params
    # type raw + this check: type str would turn a list (-e tachyon_approved_by='["a","b"]') into
    # its text and send that
    error = string_options_error(p, TEXT_OPTIONS)
    if error:
        module.fail_json(msg=error + " (one string per option)")
    run_url = p["run_url"] or github_run_url(os.environ)
    duration = time.time() - p["started_at"] if p["started_at"] else None
    data = notify.event_data(p["event"], p["environment"], release=p["release"], services=p["services"],
                             deployed_by=p["deployed_by"], approved_by=p["approved_by"],
                             deployment_id=p["deployment_id"], duration=duration, run_url=run_url,
                             app_url=p["app_url"], message=p["details"])
    if module.check_mode:
        module.exit_json(changed=False, payload=data, sent=[], failed=[])
    sent, failed = notify.deliver(p["webhooks"], p["event"], data, poster(module))
    for item in failed:
        module.warn("notification %s to %s not delivered after %d attempt(s): %s; the run goes on"
                    % (p["event"], item["webhook"], item["attempts"], item["error"]))
    module.exit_json(changed=bool(sent), payload=data, sent=sent, failed=failed)


if __name__ == "__main__":
    main()
