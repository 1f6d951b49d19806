# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The images a release pins, in the shape tachyon.infra.image_digest takes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tachyon.infra.plugins.module_utils._common.patterns import is_sha

DOCUMENTATION = r"""
name: release_images
short_description: Service SHAs and the service catalog to name -> {image, tag} for image_digest
description:
  - C(shas | tachyon.infra.release_images(tachyon_services)) maps each service given a SHA (blank
    values are skipped) to C({image, tag}) with the catalog's image and the SHA in lower case as
    the tag (what the build-push workflow pushes for that commit), for M(tachyon.infra.image_digest).
  - A service that is not in the catalog, or whose SHA is not 7-40 hex characters, is left out
    (the release module then refuses it by name).
options:
  _input:
    description: Service name to SHA.
    type: dict
    required: true
  services:
    description: The service catalog (C(tachyon_services)), each with C(name) and C(image).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Digests of the release's images
  tachyon.infra.image_digest:
    images: "{{ {'tachyon-api': '4a09142'} | tachyon.infra.release_images(tachyon_services) }}"
"""

RETURN = r"""
_value:
  description: Service name to C({image, tag}).
  type: dict
"""


def release_images(shas, services):
    catalog = {svc["name"]: svc["image"] for svc in services or []}
    return {name: {"image": catalog[name], "tag": sha.lower()}
            for name, sha in (shas or {}).items()
            if is_sha(sha) and name in catalog}


class FilterModule(object):
    def filters(self):
        return {"release_images": release_images}
