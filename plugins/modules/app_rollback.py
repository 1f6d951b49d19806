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
  - Without O(deployment_id) the target is the last deployment that was good, the newest one
    older than the deployment the app runs now, that is C(ACTIVE) or C(SUPERSEDED) after having
    been ACTIVE (no error step, every progress step C(SUCCESS)) and whose spec differs from the
    running one (a maintenance or autoscaler redeploy of the same spec is not a release to go
    back to). A deployment that ended C(ERROR) or C(CANCELED), or was superseded before it
    became ACTIVE, is never chosen. When the app runs a rollback, "now" is the deployment it was
    cloned from, so a second rollback goes one release further back. The result says which
    deployment was chosen and why; without one the task fails saying why each candidate was
    not good.
  - Every wait and retry ends at O(timeout); the message says what it was waiting for. No URL
    query string or token appears in a message or result.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes
  - tachyon.infra.progress
  - tachyon.infra.app_platform
options:
  environment:
    description:
      - The environment the app is (for the next command a failure names, C(-i inventories/<environment>)).
      - A failure after App Platform was touched (the rollback deployment failed or timed out, its commit
        failed) says what the app runs now (deployment, phase, each component's image), whether a rollback
        pins it, and the command that continues (RV(standing), RV(next_command)).
    type: str
  deployment_id:
    description:
      - The deployment to roll back to.
      - Default, the last good one (see the description), ACTIVE or SUPERSEDED after having
        been ACTIVE, created before the deployment the app runs now.
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
    description:
      - Seconds the whole task may take (API calls with their retries and rate-limit waits, and
        waiting for the rollback or revert deployment). A commit still due at the deadline gets
        one request of at most 10 s.
    type: int
    default: 900
  poll_interval:
    description: Longest pause between polls (first polls are quicker).
    type: float
    default: 1
attributes:
  check_mode:
    support: full
    details: Validates the rollback and reports what would be done; changes nothing.
  diff_mode:
    support: full
    details: Before/after deployment id.
seealso:
  - module: tachyon.infra.app_deploy
"""

EXAMPLES = r"""
- name: Roll back to the deployment that was active before ours
  tachyon.infra.app_rollback:
    app_id: "{{ tachyon_do_app_id }}"
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
standing:
  description: On a failure after the platform was touched, what the app runs now - C(deployment_id),
    C(phase), C(pinned), C(pinned_deployment_id), C(images) (component to tag or digest).
  returned: on such a failure
  type: dict
next_command:
  description: On such a failure, the command that continues.
  returned: on such a failure
  type: str
rollback_failed:
  description: True when the rollback deployment failed or timed out after it was started (false when
    only its commit failed - the app then runs the rollback, pinned).
  returned: on such a failure
  type: bool
target_deployment_id:
  description: The deployment rolled back to.
  returned: state=rolled_back
  type: str
target_reason:
  description: Why the target was chosen (given, or which good deployment it is and what was skipped).
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

from ansible_collections.tachyon.infra.plugins.module_utils._spec import diff as spec_diff
from ansible_collections.tachyon.infra.plugins.module_utils._platform.deployments import (
    DeploymentFailed,
    error_steps,
    describe_step,
    flatten_steps,
    wait_for_deployment,
)
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import (
    HAS_PYDO,
    NO_RETRY,
    PYDO_IMPORT_ERROR,
    DOApiError,
    call,
    cleanup_window,
    client_argument_spec,
    make_client,
    set_deadline,
)
from ansible_collections.tachyon.infra.plugins.module_utils._common.progress import PROGRESS_OPTION, ProgressLog
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_module_results
from ansible_collections.tachyon.infra.plugins.module_utils._platform import standing as app_standing

# deployments listed per page, and pages read at most, when looking for the last good one
PER_PAGE = 20
MAX_PAGES = 5


def was_good(dep):
    """(True, why) when ``dep`` went live: ACTIVE, or SUPERSEDED after having been ACTIVE.

    App Platform marks the previously active deployment SUPERSEDED when a newer one becomes
    ACTIVE, and also a deployment replaced while still building or deploying. They differ in
    their progress: one that went live finished every step (``success_steps == total_steps``,
    every step SUCCESS, no error step); one replaced on the way has PENDING/RUNNING steps left.
    """
    phase = dep.get("phase")
    progress = dep.get("progress") or {}
    steps = flatten_steps(progress.get("steps"))
    if phase == "ACTIVE":
        return True, "ACTIVE"
    if phase != "SUPERSEDED":
        return False, "ended %s" % (phase or "without a phase")
    failed = [s for s in steps if s.get("status") == "ERROR"]
    if failed or progress.get("error_steps"):
        return False, "SUPERSEDED with failed step(s)%s" % (
            " " + ", ".join(str(s.get("path")) for s in failed) if failed else "")
    total, success = progress.get("total_steps"), progress.get("success_steps")
    unfinished = [s for s in steps if s.get("status") != "SUCCESS"]
    if not steps and not total:
        return False, "SUPERSEDED, and its progress does not show that it ever became ACTIVE"
    if unfinished or (total and success != total):
        return False, "SUPERSEDED before it became ACTIVE (%s of %s steps done)" % (
            success or 0, total or len(steps))
    return True, "SUPERSEDED after being ACTIVE (all %s steps succeeded)" % (total or len(steps))


def _same_spec(one, other):
    if not one or not other:
        return False
    return not spec_diff.compare(one, other)[0] and not spec_diff.compare(other, one)[0]


def _label(dep):
    cause = (dep.get("cause_details") or {}).get("type") or dep.get("cause")
    return "%s (created %s%s)" % (dep.get("id"), dep.get("created_at") or "?", ", %s" % cause if cause else "")


def last_good(deployments, active):
    """(target or None, reason): the last good deployment to roll back to, and why.

    ``active`` is the app's active deployment (dict). Candidates are the deployments created
    before it - before the one it was cloned from when it is itself a rollback - newest first;
    the first that was good (``was_good``) and whose spec differs from the running one wins.
    ``reason`` says which was chosen and what was skipped, or why none qualifies.
    """
    active = active or {}
    by_id = dict((d.get("id"), d) for d in deployments if d.get("id"))
    reference = by_id.get(active.get("cloned_from")) or by_id.get(active.get("id")) or active
    ref_created = reference.get("created_at") or ""
    running_spec = active.get("spec") or reference.get("spec")
    older = sorted((d for d in deployments
                    if d.get("id") not in (active.get("id"), reference.get("id"))
                    and (d.get("created_at") or "") < ref_created),
                   key=lambda d: d.get("created_at") or "", reverse=True)
    newer = [d for d in deployments if (d.get("created_at") or "") > (active.get("created_at") or "")
             and d.get("id") != active.get("id")]
    skipped = []
    for dep in older:
        good, why = was_good(dep)
        if good and _same_spec(dep.get("spec"), running_spec):
            good, why = False, "%s, but with the spec the app runs now" % why
        if good:
            text = "%s is the last good deployment: %s" % (_label(dep), why)
            if skipped:
                text += "; skipped newer: %s" % "; ".join(skipped)
            return dep, text
        skipped.append("%s %s" % (dep.get("id"), why))
    now = "the app runs %s" % _label(active)
    if active.get("cloned_from"):
        now += ", a rollback to %s" % active["cloned_from"]
    if newer:
        now += "; newer deployment(s) never went live: %s" % ", ".join(
            "%s %s" % (d.get("id"), d.get("phase")) for d in newer)
    if not older:
        return None, "no deployment older than the running one is listed (%s)" % now
    return None, "none of the older deployments was good (%s): %s" % (now, "; ".join(skipped))


class Rollback:
    def __init__(self, module, client):
        self.module = module
        self.p = module.params
        self.client = client
        self.progress = ProgressLog(self.p.get("progress_file"))
        self.lines = self.progress.lines

    def api(self, action, func, *args, **kwargs):
        kwargs["_app_id"] = self.p["app_id"]
        return call(action, func, *args, **kwargs)

    def get_app(self):
        return self.api("get app", self.client.apps.get, self.p["app_id"]).get("app") or {}

    def standing(self):
        """What the app runs now (for a failure message); None when even that cannot be read."""
        try:
            with cleanup_window(self.client):
                return app_standing.standing(self.get_app())
        except Exception:  # pylint: disable=broad-except  # the failure being reported matters more
            return None

    def fail_touched(self, msg, target, rollback_failed=True, **extra):
        """Fail after the platform was touched: say what the app runs, whether it is pinned, and
        the command that continues."""
        state = self.standing()
        next_command = app_standing.rollback_command(self.p.get("environment"), target)
        self.module.fail_json(msg="%s. %s" % (msg, app_standing.describe(state, next_command)),
                              changed=True, rollback_failed=rollback_failed, standing=state, next_command=next_command,
                              progress_lines=self.lines, **extra)

    def wait(self, dep_id, deadline, target=None):
        try:
            return wait_for_deployment(self.client, self.p["app_id"], dep_id, deadline, self.p["poll_interval"], self.progress)
        except DeploymentFailed as exc:
            steps = "; ".join(describe_step(s) for s in error_steps(exc.details)) or "no step reported"
            self.fail_touched("rollback deployment %s ended %s (%s)" % (dep_id, exc.details.get("phase"), steps),
                              target, deployment_id=dep_id, rollback_deployment_id=dep_id)
        except TimeoutError as exc:
            waiting_for = getattr(exc, "waiting_for", None) or "deployment %s to become ACTIVE" % dep_id
            self.fail_touched("rollback deployment %s not ACTIVE within %ss (timed out waiting for %s)"
                              % (dep_id, self.p["timeout"], waiting_for), target,
                              deployment_id=dep_id, rollback_deployment_id=dep_id, waiting_for=waiting_for)

    def deployments(self):
        """The app's deployments, newest first: pages of PER_PAGE, at most MAX_PAGES."""
        found = []
        for page in range(1, MAX_PAGES + 1):
            resp = self.api("list deployments", self.client.apps.list_deployments, self.p["app_id"],
                            page=page, per_page=PER_PAGE)
            batch = resp.get("deployments") or []
            found.extend(batch)
            if len(batch) < PER_PAGE or not ((resp.get("links") or {}).get("pages") or {}).get("next"):
                break
        return found

    def run(self):
        p = self.p
        deadline = time.monotonic() + p["timeout"]
        set_deadline(self.client, deadline)
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
        reason = "given as deployment_id"
        if not target:
            found, reason = last_good(self.deployments(), active)
            if not found:
                self.module.fail_json(msg="no earlier good deployment to roll back to: %s. Pass deployment_id "
                                      "(playbooks/rollback.yml: -e tachyon_rollback_to=<deployment id>) to choose "
                                      "one." % reason, target_reason=reason, **result)
            target = found["id"]
            self.progress("rollback target: %s" % reason)
        result["target_deployment_id"] = target
        result["target_reason"] = reason
        if target in (active.get("id"), active.get("cloned_from")):
            result["committed"] = not pinned
            if pinned and p["commit"]:
                result["changed"] = True
                result["committed"] = True
                if not self.module.check_mode:
                    self.api("commit rollback", self.client.apps.commit_rollback, p["app_id"])
            self.module.exit_json(msg="the app already runs deployment %s (%s)" % (target, reason), **result)
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
            self.module.exit_json(msg="would roll back from %s to %s: %s" % (active.get("id"), target, reason), **result)
        resp = self.api("create rollback", self.client.apps.create_rollback, p["app_id"], body, **NO_RETRY)
        dep_id = (resp.get("deployment") or {}).get("id")
        self.progress("rollback to %s: deployment %s" % (target, dep_id))
        dep = self.wait(dep_id, deadline, target)
        if p["commit"]:
            try:
                with cleanup_window(self.client):
                    self.api("commit rollback", self.client.apps.commit_rollback, p["app_id"])
            except DOApiError as exc:
                # the rollback is live and pinned: say so, and how to commit it
                self.fail_touched("rollback deployment %s is live, but committing it failed: %s" % (dep_id, exc),
                                  target, rollback_failed=False, deployment_id=dep_id, rollback_deployment_id=dep_id,
                                  phase=dep.get("phase"), committed=False)
            self.progress("rollback committed")
        result.update(deployment_id=dep_id, phase=dep.get("phase"), committed=p["commit"], progress_lines=self.lines)
        self.module.exit_json(msg="rolled back from %s to %s (deployment %s): %s"
                              % (active.get("id"), target, dep_id, reason), **result)


def main():
    argument_spec = client_argument_spec()
    argument_spec.update(
        deployment_id=dict(type="str"),
        state=dict(type="str", default="rolled_back", choices=["rolled_back", "committed", "reverted"]),
        commit=dict(type="bool", default=True),
        timeout=dict(type="int", default=900),
        poll_interval=dict(type="float", default=1.0),
        **PROGRESS_OPTION,
        environment=dict(type="str"),
    )
    module = redact_module_results(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True))
    if not HAS_PYDO:
        module.fail_json(msg=missing_required_lib("pydo"), exception=PYDO_IMPORT_ERROR)
    try:
        Rollback(module, make_client(module.params["token"], module.params["api_endpoint"])).run()
    except DOApiError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
