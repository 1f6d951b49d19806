#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_pins
short_description: The pins a rollback to an earlier release redeploys, from the manifest history
version_added: "0.3.0"
description:
  - For C(playbooks/rollback.yml -e tachyon_rollback_version=<release>), when App Platform's
    previous deployments no longer hold that release. Reads the release manifest and returns what
    the newest successful, health-verified deployment of O(version) ran (SHA, tag, digest and
    image per service), so the deploy role redeploys exactly that through its normal path (digest
    checks, lock, health verification, record).
  - Production rolls back only to a release production itself ran; staging to one staging or
    production ran. Refuses, naming the releases the history does record, when there is none, and
    when the deployment recorded no pin for a service of O(services).
  - Reads only; changes nothing.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.read_only
  - tachyon.infra.manifest
options:
  version:
    description: The release to roll back to (semantic version, as recorded).
    type: str
    required: true
  environment:
    description: The environment that rolls back.
    type: str
    required: true
    choices: [staging, production]
  services:
    description: The service catalog's names; each needs a recorded pin.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: What release 0.1.9 ran in production
  tachyon.infra.release_pins:
    manifest_path: releases/manifest.json
    version: 0.1.9
    environment: production
    services: [tachyon-api, tachyon-workers, tachyon-db-migrate]
  register: pins
"""

RETURN = r"""
services:
  description: Service name to C({sha, tag, digest, image}) as the chosen deployment recorded them.
  returned: success
  type: dict
  sample: {tachyon-api: {sha: 4a091424887308027935eb247097d4ffd77c8f99, tag: 4a091424887308027935eb247097d4ffd77c8f99,
           digest: "sha256:6f1c...", image: ghcr.io/tachyonapp/tachyon-api}}
source:
  description: Which deployment the pins come from.
  returned: success
  type: str
  sample: release 0.1.9 as production deployment 7d1c... ran it (2026-05-01T12:00:00Z)
running_version:
  description: The release the environment runs now (null when it never deployed).
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import pins as rp


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **mf.MANIFEST_PATH_OPTION,
            version=dict(type="str", required=True),
            environment=dict(type="str", required=True, choices=["staging", "production"]),
            services=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        try:
            mf.check_semver(params["version"], "tachyon_rollback_version")
        except mf.ManifestError as exc:
            raise rp.PinsError("%s. Nothing was deployed." % exc)
        manifest = mf.read(params["manifest_path"])["manifest"]
        pins, source, running = rp.rollback_pins(manifest, params["version"], params["environment"],
                                                 params["services"])
    except (mf.ManifestError, rp.PinsError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, services=pins, source=source, running_version=running)


if __name__ == "__main__":
    main()
