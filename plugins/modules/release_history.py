#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_history
short_description: List every release of the release manifest, where it was deployed, and what runs where now
version_added: "0.4.0"
description:
  - Reads the release manifest (a legacy, bash-era manifest is upgraded in memory first, as every
    playbook reads it; the file is not changed) and lists its releases - every version its
    history of deploy attempts names, plus the current release - newest version first.
  - Per release and environment, the last attempt of that version there (outcome C(succeeded),
    C(failed) or C(rolled_back), when, deployed by, approved by, deployment id, the deployment a
    rollback returned to) and how many attempts there were.
  - What each environment runs now - the last successful deployment, or, when the environment's
    latest attempt is a rollback, the deployment it was rolled back to.
  - The manifest keeps the creation time of the current release only. With O(git_history), the
    hub's git history of the manifest file is read too (every committed version, each through the
    same reader and legacy upgrade), giving earlier releases their creation time (the C(created_at)
    of the first committed version pinning them, or that commit's date when it said none) and
    adding the attempts earlier versions recorded that the file no longer holds (a legacy manifest
    kept only the last deployment per environment). Without it, older releases have
    their C(created_at) null.
  - Changes nothing.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.manifest
  - tachyon.infra.manifest.history
  - tachyon.infra.attributes.read_only
options: {}
seealso:
  - module: tachyon.infra.release_manifest
  - module: tachyon.infra.delivery_metrics
"""

EXAMPLES = r"""
- name: Read the release list
  tachyon.infra.release_history:
    manifest_path: "{{ playbook_dir }}/../releases/manifest.json"
  register: history

- name: Show it
  ansible.builtin.debug:
    msg: "{{ history.text.split('\n') }}"
"""

RETURN = r"""
releases:
  description:
    - The releases, newest version first (records without a version, from a legacy manifest,
      last). Each has C(version), C(current), C(created_at), C(created_by), C(services),
      C(running_in) (the environments running it now) and C(environments) - per environment
      null (never attempted) or C(last) (C(outcome), C(at), C(deployed_by), C(approved_by),
      C(deployment_id), C(rolled_back_to), C(health_verified_at), C(legacy)), C(attempts),
      C(succeeded).
  returned: success
  type: list
  elements: dict
running:
  description:
    - Per environment what runs now - C(version), C(since), C(deployment_id), C(deployed_by),
      C(approved_by), C(health_verified_at), C(services), C(via) (C(deploy), C(rollback) or null
      when nothing was deployed), C(latest_attempt).
  returned: success
  type: dict
current_release:
  description: The manifest's current release.
  returned: success
  type: str
attempts:
  description: How many deploy attempts the history records.
  returned: success
  type: int
legacy_manifest:
  description: Whether the file is a legacy manifest (read upgraded in memory).
  returned: success
  type: bool
manifest_path:
  description: The manifest read (absolute).
  returned: success
  type: str
git_history:
  description:
    - With O(git_history) - C(available), C(reason) (when not), C(revisions) (how many were read),
      C(skipped) (C(commit), C(reason) of each committed version the reader refused). Else null.
  returned: success
  type: dict
text:
  description: The same as a terminal view (one block per release, then what runs where).
  returned: success
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._release import history as rh
from ansible_collections.tachyon.infra.plugins.module_utils._release import revisions as mr
from ansible_collections.tachyon.infra.plugins.module_utils._release.manifest import MANIFEST_PATH_OPTION, ManifestError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **MANIFEST_PATH_OPTION,
            **mr.HISTORY_OPTIONS,
        ),
        supports_check_mode=True,
    )
    path = os.path.abspath(module.params["manifest_path"])
    if module.params["max_revisions"] < 1:
        module.fail_json(msg="max_revisions must be at least 1")
    try:
        view = rh.read(path, module.params["git_history"], module.params["max_revisions"])
    except ManifestError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, text=rh.text(view), **view)


if __name__ == "__main__":
    main()
