#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_restart
short_description: Rolling restart of some or all components of a DigitalOcean App Platform app, planned and verified
version_added: "0.4.0"
description:
  - Plans a rolling restart from the app as App Platform reports it (C(GET /v2/apps/{id})) - the
    components to restart, the deployment they run and its images - and refuses, saying why,
    when the app has no active deployment, a rollback pins it, a deployment is in progress, or a
    component does not run (a job runs at deploy time). The plan is returned as RV(plan) and
    RV(table); in check mode that is all the module does, and it fails when the plan is refused.
  - Applies it with App Platform's restart API (C(POST /v2/apps/{id}/restart) with the component
    names in the body's C(components) list, vendored OpenAPI C(apps_restart.yml)), which starts a deployment of
    the same spec; waits for it to be ACTIVE (a failed step is named with its component and log
    tail), then verifies it - every component's image unchanged (read back), the live URL's
    health endpoint healthy, and App Platform's own health of the restarted components
    (C(GET /v2/apps/{id}/health)); a component App Platform reports UNHEALTHY fails the task
    naming it. The app's events of the restart window come back as the RV(health) C(timeline).
  - Component names come from the service catalog only (O(catalog), the C(component) of each
    C(tachyon_services) entry), or C(all) for every catalog component that runs.
  - A restart is an action, not a state - every run that applies restarts again
    (C(changed=true)); record it with M(tachyon.infra.release_manifest) C(state=restarted), which
    keeps restarts apart from the release history.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes
  - tachyon.infra.app_platform
  - tachyon.infra.app_platform.wait
  - tachyon.infra.verify
options:
  components:
    description:
      - The components to restart - a list, or one comma-separated string (C(api,workers)) - or
        C(all). Each must be the C(component) of an entry of O(catalog) and run in the app
        (a service or worker).
    type: raw
    required: true
  catalog:
    description: The service catalog (C(tachyon_services) - a list of C({name, component, ...})), the only source of component names.
    type: list
    elements: dict
    required: true
  environment:
    description:
      - The environment the app is (for the commands a failure names, C(-i inventories/<environment>)).
    type: str
  verify:
    description:
      - How the restart is verified once its deployment is ACTIVE. Always - the app runs the restart's
        deployment with every image unchanged (read back). Then, as these suboptions say, the live
        URL's health (an empty O(verify.health_path) skips it), App Platform's own health of the
        restarted components, and, when given, the pins (O(verify.services)) and the smoke checks.
      - Bad smoke checks are refused before anything is restarted.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    details: Reads the app and returns the plan; restarts nothing. Fails when the plan is refused.
  diff_mode:
    support: full
    details: Before - the running deployment and its images; after - a new deployment with the same images.
notes:
  - Not idempotent by nature - a restart is an action. The manifest records each one apart from releases.
  - The restart call is never retried blindly (each accepted call starts a deployment); a failed or
    dropped answer fails the task saying to look at the app's deployments first.
seealso:
  - module: tachyon.infra.app_deploy
  - module: tachyon.infra.release_manifest
"""

EXAMPLES = r"""
- name: Plan a restart of api and workers (check mode shows the plan, fails when refused)
  tachyon.infra.app_restart:
    app_id: "{{ tachyon_do_app_id }}"
    token: "{{ tachyon_do_token }}"
    components: api,workers
    catalog: "{{ tachyon_services }}"
  check_mode: true

- name: Restart every running component and verify it
  tachyon.infra.app_restart:
    app_id: "{{ tachyon_do_app_id }}"
    token: "{{ tachyon_do_token }}"
    components: all
    catalog: "{{ tachyon_services }}"
    verify:
      health_path: /health
      checks: [postgres, redis]
  register: restart
"""

RETURN = r"""
plan:
  description: The plan - C(decision) (C(restart) or C(refused)), C(why), C(components), C(deployment_id) (the running one), C(images).
  returned: always (unless the input is refused)
  type: dict
table:
  description: The plan in lines, as printed.
  returned: always (unless the input is refused)
  type: list
  elements: str
components:
  description: The components restarted (or, in check mode, to restart).
  returned: always (unless the input is refused)
  type: list
  elements: str
  sample: [api, workers]
previous_deployment_id:
  description: The deployment that ran before the restart.
  returned: always (unless the input is refused)
  type: str
deployment_id:
  description: The restart's deployment.
  returned: when the restart was accepted
  type: str
went_live:
  description: Whether the restart's deployment became ACTIVE.
  returned: when the restart was accepted
  type: bool
images:
  description: Component -> image digest or tag after the restart (equal to before).
  returned: when the restart's deployment is ACTIVE
  type: dict
health:
  description:
    - The health check (status, attempts, elapsed, first_healthy_after, last_state, payload), C(platform) (component ->
      C({state, cpu, memory, replicas}) as App Platform reports them) and C(timeline) (the app's
      events of the restart window, C({at, type, deployment_id, what, ours})).
  returned: when verified
  type: dict
verified:
  description: With O(verify.services) - what the app runs, read back (components, pre_deploy_jobs, migration_ran, problems).
  returned: when verified with O(verify.services)
  type: dict
smoke:
  description: With O(verify.smoke_checks) - each check's result.
  returned: when verified with smoke checks
  type: list
  elements: dict
progress_lines:
  description: What the module did, one line each.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._common.progress import ProgressLog
from ansible_collections.tachyon.infra.plugins.module_utils._platform import restart
from ansible_collections.tachyon.infra.plugins.module_utils._platform import smoke
from ansible_collections.tachyon.infra.plugins.module_utils._platform import verify as verification
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import (
    DOApiError, check_module, call, client_argument_spec, make_client, wait_argument_spec)


def main():
    argument_spec = client_argument_spec()
    argument_spec.update(
        components=dict(type="raw", required=True),
        catalog=dict(type="list", elements="dict", required=True),
        environment=dict(type="str"),
        verify=dict(type="dict", default={}, options=verification.VERIFY_OPTIONS),
    )
    argument_spec.update(wait_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    check_module(module)
    p = module.params
    try:
        names = restart.requested_components(p["components"], p["catalog"])
        p["verify"]["smoke_checks"] = smoke.validate(p["verify"]["smoke_checks"], "verify.smoke_checks")
    except (restart.RestartError, smoke.SmokeCheckError) as exc:
        module.fail_json(msg="%s. Nothing was restarted." % exc, changed=False)
    progress = ProgressLog()
    lines = progress.lines
    try:
        client = make_client(p["token"], p["api_endpoint"])
        app = call("get app", client.apps.get, p["app_id"], _app_id=p["app_id"]).get("app") or {}
    except DOApiError as exc:
        module.fail_json(msg="%s Nothing was restarted." % exc, changed=False)
    plan = restart.plan(app, names, p["catalog"])
    result = dict(changed=plan["decision"] == "restart", plan=plan, table=plan["table"],
                  components=plan["components"], previous_deployment_id=plan["deployment_id"],
                  progress_lines=lines)
    if module._diff and plan["decision"] == "restart":
        result["diff"] = restart.diff(plan)
    if plan["decision"] != "restart":
        result["changed"] = False
        module.fail_json(msg="restart refused: %s. Nothing was restarted." % plan["why"], **result)
    if module.check_mode:
        result["msg"] = "would restart %s of deployment %s" % (", ".join(plan["components"]), plan["deployment_id"])
        module.exit_json(**result)

    try:
        restarter = restart.Restarter(client, p["app_id"], progress, environment=p["environment"])
        restarter.run(plan, result, p["timeout"], p["poll_interval"], p["verify"])
    except restart.RestartFailed as exc:
        exc.result["progress_lines"] = lines
        module.fail_json(msg=exc.msg, **exc.result)
    result["progress_lines"] = lines
    module.exit_json(**result)


if __name__ == "__main__":
    main()
