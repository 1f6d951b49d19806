#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: github_deployment
short_description: Create a GitHub deployment for an environment and set its status
version_added: "0.3.0"
description:
  - With O(state=in_progress) and no O(deployment_id), creates a deployment of O(ref) in
    O(environment) (C(POST /repos/{owner}/{repo}/deployments), no auto-merge, no required
    contexts) and gives it an C(in_progress) status; returns its RV(deployment_id).
  - With O(state=success) or O(state=failure) and the O(deployment_id), sets that status, with
    the app's URL (O(environment_url)) and the run's (O(log_url)), so the repository's
    Environments page shows what runs where. A success makes the environment's earlier
    deployments inactive (C(auto_inactive)).
  - In GitHub Actions every option but O(state) and O(environment) has a default from the run's
    environment (C(GITHUB_REPOSITORY), C(GITHUB_SHA), C(GITHUB_TOKEN), C(GITHUB_API_URL), the run's
    URL). The token is no_log and only sent in the Authorization header.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.no_diff
options:
  state:
    description: The status to set.
    type: str
    required: true
    choices: [in_progress, success, failure]
  environment:
    description: The GitHub environment (staging or production).
    type: str
    required: true
  deployment_id:
    description: The deployment (RV(deployment_id) of the C(in_progress) call); required for success and failure.
    type: int
  repo:
    description: C(owner/name) of the repository. Default - C(GITHUB_REPOSITORY).
    type: str
  ref:
    description: The commit (or branch) deployed from, for a new deployment. Default - C(GITHUB_SHA).
    type: str
  token:
    description: A token with C(deployments:write). Default - C(GITHUB_TOKEN).
    type: str
  api_url:
    description: The REST API base URL. Default - C(GITHUB_API_URL), else https://api.github.com.
    type: str
  environment_url:
    description: The app's URL (its query string is cut).
    type: str
  log_url:
    description: The run's URL. Default - the GitHub Actions run.
    type: str
  description:
    description: A short description (at most 140 characters).
    type: str
  production:
    description: Whether the environment is a production one (C(production_environment)).
    type: bool
    default: false
  timeout:
    description:
      - Seconds one request may take, all of it (connect, send, the whole answer) - an overall
        deadline, not a per-read timeout.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    details: Calls nothing in check mode.
seealso:
  - module: tachyon.infra.notify
"""

EXAMPLES = r"""
- name: The deploy starts
  tachyon.infra.github_deployment:
    state: in_progress
    environment: staging
  register: gh

- name: The deploy succeeded
  tachyon.infra.github_deployment:
    state: success
    environment: staging
    deployment_id: "{{ gh.deployment_id }}"
    environment_url: https://tachyon-staging.ondigitalocean.app
"""

RETURN = r"""
deployment_id:
  description: The GitHub deployment.
  returned: success
  type: int
status_id:
  description: The status just created.
  returned: success
  type: int
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.urls import fetch_url

from ansible_collections.tachyon.infra.plugins.module_utils._common import deadline
from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import json_text
from ansible_collections.tachyon.infra.plugins.module_utils._notify import github_deployments as ghd
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_module_results


def main():
    module = redact_module_results(AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", required=True, choices=list(ghd.STATES)),
            environment=dict(type="str", required=True),
            deployment_id=dict(type="int"),
            repo=dict(type="str", fallback=(env_fallback, ["GITHUB_REPOSITORY"])),
            ref=dict(type="str", fallback=(env_fallback, ["GITHUB_SHA"])),
            token=dict(type="str", no_log=True, fallback=(env_fallback, ["GITHUB_TOKEN"])),
            api_url=dict(type="str", fallback=(env_fallback, ["GITHUB_API_URL"])),
            environment_url=dict(type="str"),
            log_url=dict(type="str"),
            description=dict(type="str"),
            production=dict(type="bool", default=False),
            timeout=dict(type="float", default=10),
        ),
        required_if=[("state", "success", ["deployment_id"]), ("state", "failure", ["deployment_id"])],
        supports_check_mode=True,
    ))
    p = module.params
    missing = [name for name in ("repo", "token") if not p[name]]
    if missing:
        module.fail_json(msg="github_deployment needs %s (in GitHub Actions: GITHUB_REPOSITORY and GITHUB_TOKEN "
                             "in the step's environment)" % " and ".join(missing))
    if module.check_mode:
        module.exit_json(changed=False, deployment_id=p["deployment_id"])
    base = (p["api_url"] or "https://api.github.com").rstrip("/")
    log_url = p["log_url"]
    if not log_url and all(os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
        log_url = "%s/%s/actions/runs/%s" % (os.environ["GITHUB_SERVER_URL"], os.environ["GITHUB_REPOSITORY"],
                                             os.environ["GITHUB_RUN_ID"])

    def request(path, body):
        resp, info = fetch_url(module, base + path, data=json_text(body), method="POST",
                               headers=ghd.headers(p["token"]), timeout=p["timeout"])
        return info, resp.read() if resp is not None else info.get("body") or b""

    def post(path, body):
        # one overall deadline per request: an API that trickles its answer is cut off
        try:
            info, text = deadline.call(lambda: request(path, body), p["timeout"], "the GitHub API request %s" % path,
                                       "the github_deployment module's timeout option")
        except deadline.DeadlineExceeded as exc:
            raise ghd.GitHubError(str(exc))
        try:
            parsed = json.loads(text or b"{}")
        except ValueError:
            parsed = {}
        return info.get("status"), parsed

    try:
        deployment_id, status_id = ghd.record(post, p["repo"], p["state"], p["environment"], ref=p["ref"],
                                              deployment_id=p["deployment_id"], environment_url=p["environment_url"],
                                              log_url=log_url, description=p["description"],
                                              production=p["production"])
    except ghd.GitHubError as exc:
        module.fail_json(msg="GitHub deployment status %s for %s not set: %s" % (p["state"], p["environment"], exc))
    module.exit_json(changed=True, deployment_id=deployment_id, status_id=status_id)


if __name__ == "__main__":
    main()
