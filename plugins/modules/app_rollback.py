#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_rollback
short_description: Roll a DigitalOcean App Platform app back to a previous deployment
version_added: "0.1.0"
description:
  - Uses App Platform's rollback API. V(rolled_back) validates the rollback
    (C(POST /v2/apps/{id}/rollback/validate)), starts it (C(POST /v2/apps/{id}/rollback)),
    waits for the rollback deployment to be ACTIVE and, with O(commit=true), commits it
    (C(POST /v2/apps/{id}/rollback/commit)) so new deployments are possible again.
  - V(committed) commits a pinned rollback; V(reverted) reverts it
    (C(POST /v2/apps/{id}/rollback/revert)) and waits for the revert deployment.
  - Idempotent. Already running the target deployment (or a rollback cloned from it), nothing
    is done and C(changed=false).
author:
  - tachyon-infra contributors
extends_documentation_fragment:
  - tachyon.infra.app_platform
options:
  deployment_id:
    description:
      - The deployment to roll back to.
      - Default, the last good one - the newest ACTIVE deployment created before the one the
        app runs now (or, if the app's latest deployment failed, the active one, in which
        case there is nothing to do).
    type: str
  state:
    description: What to do.
    type: str
    choices: [rolled_back, committed, reverted]
    default: rolled_back
  commit:
    description: With V(rolled_back), commit the rollback once it is ACTIVE (unpins the app).
    type: bool
    default: true
  timeout:
    description: Seconds to wait for the rollback (or revert) deployment.
    type: int
    default: 900
  poll_interval:
    description: Longest pause between polls (first polls are quicker).
    type: float
    default: 1
  progress_file:
    description: Internal, set by the action plugin to print progress lines live.
    type: path
attributes:
  check_mode:
    support: full
    details: Validates the rollback and reports what would be done; changes nothing.
  diff_mode:
    support: full
    details: Before/after deployment id.
  platform:
    platforms: posix
seealso:
  - module: tachyon.infra.app_deploy
"""

EXAMPLES = r"""
- name: Roll back to the deployment that was active before ours
  tachyon.infra.app_rollback:
    app_id: "{{ tachyon_do_app_id }}"
    token: "{{ tachyon_do_token }}"
    api_endpoint: "{{ tachyon_do_api_endpoint }}"
    deployment_id: "{{ deploy.previous_deployment_id }}"

- name: Roll back to the last good deployment, keep the app pinned
  tachyon.infra.app_rollback:
    app_id: "{{ tachyon_do_app_id }}"
    commit: false

- name: Undo a pinned rollback
  tachyon.infra.app_rollback:
    app_id: "{{ tachyon_do_app_id }}"
    state: reverted
"""

RETURN = r"""
target_deployment_id:
  description: The deployment rolled back to.
  returned: state=rolled_back
  type: str
deployment_id:
  description: The deployment created by the rollback or revert (the app's active one when unchanged).
  returned: success
  type: str
previous_deployment_id:
  description: The deployment active before the action.
  returned: always
  type: str
phase:
  description: Phase of the resulting deployment.
  returned: success
  type: str
committed:
  description: Whether the rollback was committed (app unpinned).
  returned: state in (rolled_back, committed)
  type: bool
warnings_from_api:
  description: Warnings the validate call returned.
  returned: state=rolled_back
  type: list
  elements: dict
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.tachyon.infra.plugins.module_utils.app_platform import (
    DeploymentFailed,
    error_steps,
    describe_step,
    wait_for_deployment,
)
from ansible_collections.tachyon.infra.plugins.module_utils.do_client import (
    HAS_PYDO,
    NO_RETRY,
    PYDO_IMPORT_ERROR,
    DOApiError,
    call,
    client_argument_spec,
    make_client,
)


def last_good(deployments, current_id):
    """Newest ACTIVE (or formerly active, now SUPERSEDED) deployment older than current_id."""
    ordered = sorted(deployments, key=lambda d: d.get("created_at") or "", reverse=True)
    past = False
    for dep in ordered:
        if dep.get("id") == current_id:
            past = True
            continue
        if past and dep.get("phase") == "ACTIVE":
            return dep
    return None


class Rollback:
    def __init__(self, module, client):
        self.module = module
        self.p = module.params
        self.client = client
        self.lines = []

    def progress(self, line):
        self.lines.append(line)
        if self.p.get("progress_file"):
            with open(self.p["progress_file"], "a") as handle:
                handle.write(line + "\n")

    def api(self, action, func, *args, **kwargs):
        kwargs["_app_id"] = self.p["app_id"]
        return call(action, func, *args, **kwargs)

    def get_app(self):
        return self.api("get app", self.client.apps.get, self.p["app_id"]).get("app") or {}

    def wait(self, dep_id, deadline):
        try:
            return wait_for_deployment(self.client, self.p["app_id"], dep_id, deadline, self.p["poll_interval"], self.progress)
        except DeploymentFailed as exc:
            steps = "; ".join(describe_step(s) for s in error_steps(exc.details)) or "no step reported"
            self.module.fail_json(msg="rollback deployment %s ended %s (%s); the app is still pinned, "
                                  "inspect it in the control panel" % (dep_id, exc.details.get("phase"), steps),
                                  changed=True, deployment_id=dep_id, progress_lines=self.lines)
        except TimeoutError:
            self.module.fail_json(msg="rollback deployment %s not ACTIVE within %ss" % (dep_id, self.p["timeout"]),
                                  changed=True, deployment_id=dep_id, progress_lines=self.lines)

    def run(self):
        p = self.p
        deadline = time.monotonic() + p["timeout"]
        app = self.get_app()
        active = app.get("active_deployment") or {}
        pinned = (app.get("pinned_deployment") or {}).get("id")
        result = dict(changed=False, previous_deployment_id=active.get("id"), deployment_id=active.get("id"),
                      phase=active.get("phase"))
        if p["state"] == "committed":
            result["committed"] = True
            if not pinned:
                self.module.exit_json(msg="no rollback pending: nothing to commit", **result)
            result["changed"] = True
            if not self.module.check_mode:
                self.api("commit rollback", self.client.apps.commit_rollback, p["app_id"])
            self.module.exit_json(msg="rollback to %s committed" % pinned, **result)
        if p["state"] == "reverted":
            if not pinned:
                self.module.exit_json(msg="no rollback pending: nothing to revert", **result)
            result["changed"] = True
            if self.module.check_mode:
                self.module.exit_json(msg="would revert the rollback pinned at %s" % pinned, **result)
            resp = self.api("revert rollback", self.client.apps.revert_rollback, p["app_id"], **NO_RETRY)
            dep_id = (resp.get("deployment") or {}).get("id")
            dep = self.wait(dep_id, deadline)
            result.update(deployment_id=dep_id, phase=dep.get("phase"), progress_lines=self.lines)
            self.module.exit_json(msg="rollback reverted by deployment %s" % dep_id, **result)

        target = p["deployment_id"]
        if not target:
            latest = self.api("list deployments", self.client.apps.list_deployments, p["app_id"], per_page=20)
            found = last_good(latest.get("deployments") or [], active.get("id"))
            if not found:
                self.module.fail_json(msg="no earlier good deployment to roll back to (active: %s); pass deployment_id"
                                      % active.get("id"), **result)
            target = found["id"]
        result["target_deployment_id"] = target
        if target in (active.get("id"), active.get("cloned_from")):
            result["committed"] = not pinned
            if pinned and p["commit"]:
                result["changed"] = True
                result["committed"] = True
                if not self.module.check_mode:
                    self.api("commit rollback", self.client.apps.commit_rollback, p["app_id"])
            self.module.exit_json(msg="the app already runs deployment %s" % target, **result)
        if self.module._diff:
            result["diff"] = dict(before="active deployment: %s\n" % active.get("id"),
                                  after="active deployment: rollback of %s\n" % target)
        body = {"deployment_id": target, "skip_pin": False}
        check = self.api("validate rollback", self.client.apps.validate_rollback, p["app_id"], body)
        result["warnings_from_api"] = check.get("warnings") or []
        if not check.get("valid", False):
            err = check.get("error") or {}
            self.module.fail_json(msg="App Platform refuses to roll back to %s: %s %s" % (
                target, err.get("code", ""), err.get("message", "")), **result)
        result["changed"] = True
        if self.module.check_mode:
            self.module.exit_json(msg="would roll back from %s to %s" % (active.get("id"), target), **result)
        resp = self.api("create rollback", self.client.apps.create_rollback, p["app_id"], body, **NO_RETRY)
        dep_id = (resp.get("deployment") or {}).get("id")
        self.progress("rollback to %s: deployment %s" % (target, dep_id))
        dep = self.wait(dep_id, deadline)
        if p["commit"]:
            self.api("commit rollback", self.client.apps.commit_rollback, p["app_id"])
            self.progress("rollback committed")
        result.update(deployment_id=dep_id, phase=dep.get("phase"), committed=p["commit"], progress_lines=self.lines)
        self.module.exit_json(msg="rolled back from %s to %s (deployment %s)" % (active.get("id"), target, dep_id), **result)


def main():
    argument_spec = client_argument_spec()
    argument_spec.update(
        deployment_id=dict(type="str"),
        state=dict(type="str", default="rolled_back", choices=["rolled_back", "committed", "reverted"]),
        commit=dict(type="bool", default=True),
        timeout=dict(type="int", default=900),
        poll_interval=dict(type="float", default=1.0),
        progress_file=dict(type="path"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_PYDO:
        module.fail_json(msg=missing_required_lib("pydo"), exception=PYDO_IMPORT_ERROR)
    try:
        Rollback(module, make_client(module.params["token"], module.params["api_endpoint"])).run()
    except DOApiError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
