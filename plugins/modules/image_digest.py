#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: image_digest
short_description: Resolve image tags to registry digests and check them against what was verified
version_added: "0.3.0"
description:
  - For each service, asks the registry (OCI distribution API, C(HEAD /v2/<name>/manifests/<tag>)
    with the OCI index, Docker manifest list, OCI manifest and Docker v2 manifest media types) for
    the digest the tag points at now (C(Docker-Content-Digest)). A multi-arch image resolves to
    its index digest.
  - Token auth as registries do it (GHCR's bearer-token flow with a PAT or C(GITHUB_TOKEN) as the
    password; basic auth, e.g. a distribution registry with htpasswd).
  - Refuses (before anything is deployed) every service whose registry digest differs from the
    digest the release pinned or staging verified, or whose staging digest differs from the
    release's, naming the service and both digests; a service left without a digest is refused
    unless O(allow_tag_only).
  - Reads only; changes nothing.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.read_only
options:
  images:
    description: Service name to C({image, tag}) (C(image) without tag, e.g. C(ghcr.io/org/name)).
      Other keys (C(sha), C(digest), C(component)...) are carried through to RV(services).
    type: dict
    required: true
  release:
    description:
      - The release's pins, service name to C({sha, digest}) (the manifest's C(services)). A pinned
        digest is what the registry must still answer for a service deployed at the pinned commit.
    type: dict
    default: {}
  given:
    description:
      - Service name to the digest the caller was handed (e.g. the build-push workflow's C(digest)
        output). The registry's tag must still point at it, and it must equal what the release
        pinned or staging verified.
    type: dict
    default: {}
  environment:
    description:
      - C(staging) or C(production). In production the C(digest) of each O(images) entry is the
        digest staging verified; it must equal the release's pin and what the registry answers now.
    type: str
    choices: [staging, production]
    default: staging
  endpoints:
    description:
      - Registry host to the base URL that serves it (a mirror, a local registry standing in for
        C(ghcr.io), the sandbox's emulator). Other hosts are reached at C(https://<host>).
    type: dict
    default: {}
  username:
    description: Registry user (GHCR accepts any name with a token as the password).
    type: str
  password:
    description: Registry password, PAT or C(GITHUB_TOKEN). Never logged or returned.
    type: str
  allow_tag_only:
    description:
      - Deploy a service by tag when it has no digest (the registry could not resolve it and
        nothing was verified). Off by default; when on, each such service is named in RV(notes)
        and a warning.
    type: bool
    default: false
  timeout:
    description:
      - Seconds one registry request may take, all of it (connect, send, the whole answer) - an
        overall deadline, not a per-read timeout.
    type: float
    default: 10
notes:
  - Uses C(requests); see C(plugins/module_utils/_release/registry.py) for why no registry SDK.
"""

EXAMPLES = r"""
- name: Digests of what staging deploys
  tachyon.infra.image_digest:
    images:
      tachyon-api: {image: ghcr.io/tachyonapp/tachyon-api, tag: 4a09142}
    username: "{{ tachyon_registry_username }}"
    password: "{{ tachyon_registry_password }}"
  register: digests

- name: Production deploys staging's digests, or nothing
  tachyon.infra.image_digest:
    environment: production
    images: "{{ deploy_services }}"
    release: "{{ deploy_release.manifest.services }}"
    endpoints: {ghcr.io: "http://127.0.0.1:5000"}
"""

RETURN = r"""
digests:
  description: Service name to the digest its tag points at in the registry now.
  returned: always
  type: dict
  sample: {tachyon-api: "sha256:6f1c0c3b..."}
services:
  description: O(images) with C(digest) set to the digest to deploy (null only for tag-only
    services with O(allow_tag_only)).
  returned: always
  type: dict
elapsed:
  description: Seconds the registry requests took.
  returned: always
  type: float
requests:
  description: HTTP requests made (manifest HEADs, token requests).
  returned: always
  type: int
notes:
  description: Services deployed by tag (O(allow_tag_only)), or unresolved with O(allow_tag_only).
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._release import registry


def run(params):
    images = params["images"]
    for name, item in images.items():
        if not isinstance(item, dict) or not item.get("image") or not item.get("tag"):
            raise registry.RegistryError("images.%s: expected {image, tag}" % name)
    creds = {"username": params.get("username"), "password": params.get("password")}
    resolver = registry.Resolver(endpoints=params["endpoints"], credentials=creds,
                                 timeout=params["timeout"])
    resolved, notes = {}, []
    started = time.monotonic()
    for name in sorted(images):
        try:
            resolved[name] = resolver.resolve(images[name]["image"], images[name]["tag"])
        except registry.RegistryError as exc:
            if not params["allow_tag_only"]:
                raise registry.RegistryError("%s: %s. Nothing was deployed." % (name, exc))
            notes.append("%s: not resolved (%s)" % (name, exc))
    elapsed = round(time.monotonic() - started, 3)
    services, more = registry.compare_digests(params["environment"], images, resolved,
                                              params["release"], params["allow_tag_only"],
                                              params["given"])
    return dict(digests=resolved, services=services, elapsed=elapsed,
                requests=resolver.requests_made, notes=notes + more)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            images=dict(type="dict", required=True),
            release=dict(type="dict", default={}),
            given=dict(type="dict", default={}),
            environment=dict(type="str", default="staging", choices=["staging", "production"]),
            endpoints=dict(type="dict", default={}),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            allow_tag_only=dict(type="bool", default=False),
            timeout=dict(type="float", default=10),
        ),
        supports_check_mode=True,
    )
    try:
        result = run(module.params)
    except registry.RegistryError as exc:
        module.fail_json(msg=str(exc))
    for note in result["notes"]:
        module.warn(note)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
