#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: app_verify
short_description: Read back what an App Platform deployment runs and verify it against the release's pins
version_added: 0.3.0
description:
  - Reads the app (C(GET /v2/apps/{id})) and one of its deployments
    (C(GET /v2/apps/{id}/deployments/{deployment_id})) with pydo and reports, per component, the
    image the deployment's spec runs as the API returns it (not what was sent), the status of
    every C(PRE_DEPLOY) job's step in the deployment's progress, and whether a migration job ran.
  - With O(services), verifies the whole app; fails when a component runs another image than its
    pin (the digest where one is pinned, else the tag), naming the component and both references,
    or when a C(PRE_DEPLOY) job's run did not succeed; with O(require_active), also when the
    deployment is not the app's active one.
  - With O(verify=false) it only reports (the failed-deploy path uses it to learn whether the
    migration job ran; the deploy plan to show what runs now).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.app_platform
  - tachyon.infra.attributes.read_only
options:
  deployment_id:
    description: The deployment to read; default the app's active deployment.
    type: str
  require_active:
    description: Fail when O(deployment_id) is not the app's active deployment.
    type: bool
    default: false
  services:
    description:
      - The release's pins, service name -> C({component, image, tag, sha, digest}) (the deploy
        role's C(deploy_services)). Each component must run exactly its pin.
      - Omit to only report.
    type: dict
  verify:
    description: Fail on a mismatch (C(false) reports the problems in RV(problems) only).
    type: bool
    default: true
  timeout:
    description: Seconds the whole read may take (requests, retries and rate-limit waits).
    type: float
    default: 30
notes:
  - Never changes anything; C(changed) is always false. Runs in check mode too (read-only).
"""

EXAMPLES = r"""
- name: Verify the whole app after ACTIVE
  tachyon.infra.app_verify:
    app_id: "{{ tachyon_do_app_id }}"
    deployment_id: "{{ deploy_result.deployment_id }}"
    require_active: true
    services: "{{ deploy_services }}"

- name: Did the failed deployment run its migration job?
  tachyon.infra.app_verify:
    app_id: "{{ tachyon_do_app_id }}"
    deployment_id: "{{ failed_deployment_id }}"
    verify: false
  register: failed_deployment
"""

RETURN = r"""
deployment_id:
  description: The deployment read.
  returned: always
  type: str
active_deployment_id:
  description: The app's active deployment (null when none).
  returned: always
  type: str
phase:
  description: The deployment's phase.
  returned: when a deployment was read
  type: str
live_url:
  description: The app's live URL.
  returned: always
  type: str
components:
  description: Component name -> C({kind, job_kind, image, ref, tag, digest}) as the deployment's spec has it.
  returned: when a deployment was read
  type: dict
pre_deploy_jobs:
  description: PRE_DEPLOY job name -> the status of its step in the deploy stage (null when the progress has none).
  returned: when a deployment was read
  type: dict
migration_ran:
  description: A PRE_DEPLOY job of the deployment ran (its step is SUCCESS or ERROR).
  returned: when a deployment was read
  type: bool
problems:
  description: What does not match (one line each, naming the component and both references).
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._platform import client as do_client
from ansible_collections.tachyon.infra.plugins.module_utils._platform import live_app


def main():
    argument_spec = do_client.client_argument_spec()
    argument_spec.update(
        deployment_id=dict(type="str"),
        require_active=dict(type="bool", default=False),
        services=dict(type="dict"),
        verify=dict(type="bool", default=True),
        timeout=dict(type="float", default=30.0),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        # bounded: a rate-limited or slow API fails this read within the timeout, never waits longer
        client = do_client.make_client(p["token"], p["api_endpoint"], timeout=p["timeout"],
                                       deadline=time.monotonic() + p["timeout"])
        app, deployment = live_app.read(client, p["app_id"], p["deployment_id"])
    except do_client.DOApiError as exc:
        module.fail_json(msg=str(exc), changed=False, problems=[])
    result = live_app.verify(app, deployment, p["services"], p["deployment_id"], p["require_active"])
    if p["verify"] and result["problems"]:
        module.fail_json(
            msg="whole-app verification of deployment %s failed: %s. The deployment is ACTIVE but the "
                "app does not run the release as pinned; it is treated like a failed health check."
                % (result["deployment_id"], "; ".join(result["problems"])),
            changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
