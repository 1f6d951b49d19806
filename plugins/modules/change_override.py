#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: change_override
short_description: Request, approve, use or show an incident override of a change window
version_added: 0.5.0
description:
  - An incident override lets one deploy of one release (its pins - each service's commit and
    digest) to one environment through the change windows (C(tachyon_change_windows)), for a few
    hours. See docs/docsite/rst/change_windows.rst.
  - V(requested) creates one with a reason and an expiry (O(hours), default 2, at most 24),
    requested by O(by); the result's RV(id) names it. V(approved) - another person than the
    requester approves it (required for production). V(consumed) - the deploy it lets through
    uses it, once; a second use is refused. V(status) shows it.
  - Kept where the deploy lock and the freeze are, so every runner sees it - a ref of the hub's
    git remote, C(refs/tachyon/overrides/<id>), changed by compare-and-swap pushes (of two runs
    using it exactly one wins); without O(lock_remote) a file beside O(lock_path) (this controller
    only, like the lock).
  - Refuses, naming why and changing nothing - an override of another environment or release
    (or other images of it), an expired or already used one, an unapproved one for production,
    an approval by the requester.
  - The reason is data - one line in the commit trailers, control characters shown (not obeyed)
    on the terminal.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes
attributes:
  check_mode:
    support: full
    details: Every check runs (the override is read and judged); nothing is written.
  diff_mode:
    support: full
    details: The override record before and after.
options:
  state:
    description: What to do with the override.
    type: str
    choices: [requested, approved, consumed, status]
    required: true
  environment:
    description: The environment (the inventory group) the override is for.
    type: str
    choices: [staging, production]
    required: true
  id:
    description: The override (C(ov-) and 12 hex digits, from V(requested)). Required unless O(state=requested).
    type: str
  version:
    description:
      - The release. V(requested) - the release to let through (must be the manifest's);
        V(consumed) - the release the deploy deploys.
    type: str
  manifest_path:
    description: V(requested) - the release manifest, read for the release's pins.
    type: path
  services:
    description: V(consumed) - the services the deploy deploys (the plan's RV(tachyon.infra.deploy_plan#module:services)).
    type: dict
    default: {}
  by:
    description: Who runs this - the requester, the approver or the deployer (C(tachyon_deployed_by)).
    type: str
  reason:
    description: V(requested) - why (an incident, a fix); shown to everyone and kept.
    type: str
  hours:
    description:
      - V(requested) - how long the override is valid, in hours written as digits (V(2), V(0.5)),
        at least one minute and at most 24.
      - Type raw so that what Python's C(float) would also read (V(2_0) as 20, V(1e-9), V(inf)) is
        refused, not reinterpreted.
    type: raw
    default: 2
  run_url:
    description: Where this run can be seen (recorded with the use).
    type: str
  lock_remote:
    description: The hub's git remote holding the lock, the freeze and the overrides (empty - a local file).
    type: str
  lock_repo_dir:
    description: The hub checkout whose git knows O(lock_remote).
    type: path
  lock_path:
    description: The local lock file; without O(lock_remote) the override is a file beside it.
    type: path
"""

EXAMPLES = r"""
- name: Request an override for the release during an incident
  tachyon.infra.change_override:
    state: requested
    environment: production
    version: 0.2.1
    manifest_path: releases/manifest.json
    by: alice
    reason: "incident 123: payments down, fix in 0.2.1"
    hours: 2
    lock_remote: origin
    lock_repo_dir: "{{ playbook_dir | dirname }}"
  register: override

- name: Another person approves it
  tachyon.infra.change_override:
    state: approved
    environment: production
    id: "{{ override.id }}"
    by: bob
    lock_remote: origin
    lock_repo_dir: "{{ playbook_dir | dirname }}"
"""

RETURN = r"""
id:
  description: The override's id.
  returned: success
  type: str
  sample: ov-3f2a9c1b7d40
override:
  description:
    - The override record - C(lock_id) (the id), C(environment), C(release), C(pins), C(holder)
      (the requester), C(reason), C(started), C(expires_at), C(approved_by), C(approved_at),
      C(consumed_by), C(consumed_at).
  returned: success
  type: dict
where:
  description: Where the override is kept.
  returned: success
  type: str
msg:
  description: What was done, or why it was refused.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock
from ansible_collections.tachyon.infra.plugins.module_utils._plan import overrides
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf


class _DryStore(object):
    """Check mode: reads from the real store, writes nothing (a write reports success)."""

    def __init__(self, store):
        self.store = store
        self.where = store.where

    def read(self, ref):
        return self.store.read(ref)

    def create(self, ref, holder, expected=None, title=None):
        return "check-mode"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", required=True, choices=["requested", "approved", "consumed", "status"]),
            environment=dict(type="str", required=True, choices=["staging", "production"]),
            id=dict(type="str"),
            version=dict(type="str"),
            manifest_path=dict(type="path"),
            services=dict(type="dict", default={}),
            by=dict(type="str"),
            reason=dict(type="str"),
            hours=dict(type="raw", default=overrides.DEFAULT_HOURS),
            run_url=dict(type="str"),
            lock_remote=dict(type="str"),
            lock_repo_dir=dict(type="path"),
            lock_path=dict(type="path"),
        ),
        required_if=[("state", "requested", ("version", "manifest_path", "reason")),
                     ("state", "approved", ("id",)), ("state", "consumed", ("id", "version")),
                     ("state", "status", ("id",))],
        supports_check_mode=True,
    )
    p = module.params
    env = p["environment"]
    try:
        store, _note = git_lock.open_store(env, p["lock_remote"], p["lock_repo_dir"], p["lock_path"])
        writer = _DryStore(store) if module.check_mode else store
        before = None
        if p["state"] == "requested":
            try:
                manifest = mf.read(p["manifest_path"])["manifest"]
            except mf.ManifestError as exc:
                raise overrides.OverrideError(str(exc))
            pins = overrides.release_pins(manifest, env, p["version"])
            record = overrides.request(writer, env, p["version"], pins, p["by"], p["reason"], p["hours"], p["run_url"])
            msg = ("override %s requested: %s.%s Deploy with -e tachyon_override=%s" % (
                record["lock_id"], overrides.describe(record),
                " Another person approves it: -e override_action=approve -e override_id=%s." % record["lock_id"]
                if env == "production" else "", record["lock_id"]))
        else:
            before = overrides.read(store, p["id"])[1]
            if p["state"] == "status":
                if before is None:
                    raise overrides.OverrideError("override %s: no such override in %s" % (p["id"], store.where))
                module.exit_json(changed=False, id=p["id"], override=before, where=store.where,
                                 msg="override %s" % overrides.describe(before))
            if p["state"] == "approved":
                record = overrides.approve(writer, p["id"], env, p["by"])
                msg = "override %s approved: %s" % (p["id"], overrides.describe(record))
            else:
                record = overrides.consume(writer, p["id"], env, p["version"], p["services"], p["by"], p["run_url"])
                msg = "override %s used by this deploy: %s" % (p["id"], overrides.describe(record))
    except (git_lock.LockError, overrides.OverrideError) as exc:
        module.fail_json(msg="%s. Nothing was changed." % str(exc).rstrip("."))
    result = dict(changed=True, id=record["lock_id"], override=record, where=store.where, msg=msg)
    if module._diff:
        result["diff"] = {"before": before or {}, "after": record}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
