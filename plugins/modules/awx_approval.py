#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: awx_approval
short_description: The production approver under AWX, read from AWX's API (the workflow's approval node)
version_added: "0.4.0"
description:
  - Under AWX the production approver is never typed at launch. This module reads, with the job's
    own AWX credential, the workflow approvals of the workflow job that launched this job
    (C(GET /api/v2/workflow_approvals/?unified_job_node__workflow_job=<awx_workflow_job_id>)) and
    returns the AWX user who approved the approval node (C(summary_fields.approved_or_denied_by)).
  - It fails, saying why, when the job was not launched by a workflow (C(deploy-production) launched
    alone), when the workflow job has no approved approval node (none ran, it timed out, it was
    denied), or when the approver is the user who launched the workflow (C(awx_user_name)).
  - Every request has an overall deadline of O(timeout) seconds.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes
options:
  meta:
    description: The job's AWX meta variables C(awx_job_launch_type), C(awx_workflow_job_id), C(awx_user_name).
    type: dict
    required: true
  host:
    description: AWX's URL; default the job credential's C(CONTROLLER_HOST) (or C(TOWER_HOST)).
    type: str
  oauth_token:
    description: An AWX token; default C(CONTROLLER_OAUTH_TOKEN) (or C(TOWER_OAUTH_TOKEN)).
    type: str
  username:
    description: AWX user (basic auth) when no token; default C(CONTROLLER_USERNAME).
    type: str
  password:
    description: Its password; default C(CONTROLLER_PASSWORD).
    type: str
  validate_certs:
    description: Verify AWX's TLS certificate; default C(CONTROLLER_VERIFY_SSL) or true.
    type: bool
  timeout:
    description: Overall deadline of each request, in seconds.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    details: Only reads.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: The production approver, from AWX
  tachyon.infra.awx_approval:
    meta:
      awx_job_launch_type: "{{ awx_job_launch_type | default('') }}"
      awx_workflow_job_id: "{{ awx_workflow_job_id | default(none) }}"
      awx_user_name: "{{ awx_user_name | default('') }}"
  register: approval
"""

RETURN = r"""
approved_by:
  description: The AWX user who approved the workflow's approval node.
  returned: success
  type: str
approval_id:
  description: The workflow approval's id.
  returned: success
  type: int
workflow_job_id:
  description: The workflow job that launched this job.
  returned: success
  type: int
approved_at:
  description: When the approval node finished (approved).
  returned: success
  type: str
launched_by:
  description: The AWX user who launched the workflow.
  returned: success
  type: str
"""

import base64
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

from ansible_collections.tachyon.infra.plugins.module_utils._common import deadline
from ansible_collections.tachyon.infra.plugins.module_utils._plan import awx_approval


def _env(*names):
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            meta=dict(type="dict", required=True),
            host=dict(type="str"),
            oauth_token=dict(type="str", no_log=True),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            validate_certs=dict(type="bool"),
            timeout=dict(type="float", default=10),
        ),
        supports_check_mode=True,
    )
    p = module.params
    problem = awx_approval.launch_problem(p["meta"])
    if problem:
        module.fail_json(msg="%s Nothing was deployed." % problem)
    host = p["host"] or _env("CONTROLLER_HOST", "TOWER_HOST")
    if not host:
        module.fail_json(msg="the AWX URL is unknown: attach the job's AWX credential (Red Hat Ansible Automation "
                             "Platform credential type: CONTROLLER_HOST) to deploy-production, so the approver is read "
                             "from AWX. Nothing was deployed.")
    if "://" not in host:
        host = "https://" + host
    headers = {"Accept": "application/json"}
    token = p["oauth_token"] or _env("CONTROLLER_OAUTH_TOKEN", "TOWER_OAUTH_TOKEN")
    if token:
        headers["Authorization"] = "Bearer %s" % token
    else:
        user = p["username"] or _env("CONTROLLER_USERNAME", "TOWER_USERNAME")
        password = p["password"] or _env("CONTROLLER_PASSWORD", "TOWER_PASSWORD")
        if user and password:
            headers["Authorization"] = "Basic %s" % base64.b64encode(
                ("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")
    validate = p["validate_certs"]
    if validate is None:
        validate = (_env("CONTROLLER_VERIFY_SSL", "TOWER_VERIFY_SSL") or "true").lower() not in ("false", "0", "no")
    path, params = awx_approval.query(p["meta"]["awx_workflow_job_id"])
    url = host.rstrip("/") + path + "?" + urlencode(sorted(params.items()))

    def get():
        answer = open_url(url, method="GET", headers=headers, validate_certs=validate, timeout=p["timeout"])
        return json.loads(answer.read())
    try:
        data = deadline.call(get, p["timeout"], "the AWX API request for the workflow approvals",
                             "awx_approval timeout")
    except deadline.DeadlineExceeded as exc:
        module.fail_json(msg="%s. Nothing was deployed." % exc)
    except Exception as exc:  # pylint: disable=broad-except  # urllib, HTTP and JSON errors alike
        module.fail_json(msg="cannot read the workflow approvals from AWX (%s): %s. Nothing was deployed."
                         % (path, getattr(exc, "code", None) or exc.__class__.__name__))
    try:
        found = awx_approval.approver(p["meta"], (data or {}).get("results") or [])
    except awx_approval.ApprovalRefused as exc:
        module.fail_json(msg="%s Nothing was deployed." % exc)
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
