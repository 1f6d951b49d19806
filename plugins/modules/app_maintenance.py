#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_maintenance
short_description: Turn App Platform maintenance mode (the offline page) on or off, with a record that survives a killed run
version_added: "0.4.0"
description:
  - Sets or removes the App Spec's C(maintenance) block (C(enabled), C(offline_page_url); vendored
    OpenAPI C(models/app_maintenance_spec.yml)) on the spec of the app's running deployment, with
    C(PUT /v2/apps/{id}), and waits until App Platform has rolled it out (a deployment). While it
    is on the app answers an offline page.
  - V(on) first writes a marker beside the manifest (O(marker), atomically) so a run killed at any
    point after leaves a record that maintenance may be on; V(off) removes the marker once the
    spec is back without maintenance. The deploy plan reads the marker and the live spec and says
    what to do (see M(tachyon.infra.deploy_plan)).
  - Idempotent - V(on) on an app already in maintenance (with its marker) and V(off) on an app
    without it (and no marker) change nothing.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes
  - tachyon.infra.app_platform
  - tachyon.infra.app_platform.wait
options:
  state:
    description: V(on) - the app answers the offline page; V(off) - the app answers as usual.
    type: str
    required: true
    choices: ["on", "off"]
  marker:
    description: The marker file of maintenance left on (C(<manifest dir>/.maintenance-<environment>.json) in the deploy role).
    type: path
    required: true
  environment:
    description: The environment (recorded in the marker).
    type: str
    choices: [staging, production]
  offline_page_url:
    description: With V(on), the page App Platform shows (its own page when not set). An https URL.
    type: str
  release:
    description: The release being deployed (recorded in the marker).
    type: str
  by:
    description: Who runs it (recorded in the marker).
    type: str
  run_url:
    description: Where the run can be seen (recorded in the marker).
    type: str
attributes:
  check_mode:
    support: full
    details: Reads the app and reports what would change; writes no marker and changes no spec.
  diff_mode:
    support: full
    details: The C(maintenance) block and the marker before and after.
seealso:
  - module: tachyon.infra.app_deploy
"""

EXAMPLES = r"""
- name: Offline page while the migration runs
  tachyon.infra.app_maintenance:
    app_id: "{{ tachyon_do_app_id }}"
    token: "{{ tachyon_do_token }}"
    state: "on"
    marker: "{{ tachyon_manifest_path | dirname }}/.maintenance-{{ tachyon_environment }}.json"
    environment: "{{ tachyon_environment }}"
    offline_page_url: https://status.example.com/offline.html

- name: Back online (in always, whatever failed)
  tachyon.infra.app_maintenance:
    app_id: "{{ tachyon_do_app_id }}"
    token: "{{ tachyon_do_token }}"
    state: "off"
    marker: "{{ tachyon_manifest_path | dirname }}/.maintenance-{{ tachyon_environment }}.json"
"""

RETURN = r"""
before:
  description: C({enabled, marker, maintenance}) before the task.
  returned: always
  type: dict
after:
  description: C({enabled, marker, maintenance}) after the task.
  returned: always
  type: dict
deployment_id:
  description: The deployment App Platform made to roll the change out (null when nothing changed).
  returned: always
  type: str
progress_lines:
  description: What the module did, one line each.
  returned: always
  type: list
  elements: str
"""

import json
import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._common.progress import ProgressLog
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text
from ansible_collections.tachyon.infra.plugins.module_utils._platform import maintenance
from ansible_collections.tachyon.infra.plugins.module_utils._platform import standing as app_standing
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import (
    DOApiError, call, check_module, client_argument_spec, make_client, wait_argument_spec)
from ansible_collections.tachyon.infra.plugins.module_utils._platform.deployments import DeploymentFailed


def standing_now(client, p):
    """After a failure: what the app runs now (read again: the spec change may have gone live or not),
    whether maintenance is on in it, and the command that continues (standing.describe)."""
    # the deploy's always passes no environment: the marker's name has it (.maintenance-<env>.json)
    match = re.match(r"^\.maintenance-([a-z0-9_-]+)\.json$", os.path.basename(p["marker"] or ""))
    env = p["environment"] or (match.group(1) if match else "<environment>")
    command = "ansible-playbook playbooks/maintenance.yml -i inventories/%s -e maintenance=%s" % (env, p["state"])
    if client is None:
        return "Next: %s." % command
    try:
        answer = call("get app", client.apps.get, p["app_id"], _app_id=p["app_id"])
    except DOApiError as exc:
        return "What the app runs now could not be read (%s). Next: %s." % (redact_text(str(exc)), command)
    app = answer.get("app") if isinstance(answer, dict) else None
    active = app.get("active_deployment") if isinstance(app, dict) else None
    if not isinstance(active, dict):
        return "What the app runs now could not be read (no active deployment in the answer). Next: %s." % command
    state = app_standing.standing(app)
    live = active.get("spec") if isinstance(active.get("spec"), dict) else {}
    return "%s Maintenance is %s in its spec." % (app_standing.describe(state, command),
                                                  "ON" if maintenance.enabled(live) else "off")


def main():
    argument_spec = client_argument_spec()
    argument_spec.update(
        state=dict(type="str", required=True, choices=["on", "off"]),
        marker=dict(type="path", required=True),
        environment=dict(type="str", choices=["staging", "production"]),
        offline_page_url=dict(type="str"),
        release=dict(type="str"),
        by=dict(type="str"),
        run_url=dict(type="str"),
    )
    argument_spec.update(wait_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    check_module(module)
    p = module.params
    url = p["offline_page_url"]
    if url and not re.match(r"^https://[^\s/?#]+[^\s]*$", url):
        module.fail_json(msg="offline_page_url %r must be an https URL (the page App Platform shows); nothing was "
                             "changed" % redact_text(url[:200]))
    if not p["marker"] or not os.path.isdir(os.path.dirname(p["marker"]) or "."):
        module.fail_json(msg="marker %s: its directory does not exist; nothing was changed" % p["marker"])
    progress = ProgressLog()
    on = p["state"] == "on"
    client = None
    try:
        client = make_client(p["token"], p["api_endpoint"])
        result = maintenance.switch(client, p["app_id"], on, p["marker"], url, p["timeout"], p["poll_interval"],
                                    progress, module.check_mode,
                                    p["environment"], p["release"], p["run_url"], p["by"])
    except (DOApiError, DeploymentFailed, TimeoutError) as exc:
        module.fail_json(msg="turning maintenance %s failed: %s. %s %s" % (
            p["state"], redact_text(str(exc)),
            "The marker %s stays: the next plan says maintenance may be on." % p["marker"]
            if os.path.exists(p["marker"]) else "Nothing was changed.",
            standing_now(client, p)), progress_lines=progress.lines)
    result["progress_lines"] = progress.lines
    if module._diff:
        result["diff"] = {"before": "%s\n" % json.dumps(result["before"], sort_keys=True),
                          "after": "%s\n" % json.dumps(result["after"], sort_keys=True),
                          "before_header": "maintenance", "after_header": "maintenance"}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
