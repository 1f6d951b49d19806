# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The release manifest, read and validated on the controller (no module process)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: release_manifest
short_description: Read the release manifest, validated against its JSON Schema
version_added: "0.1.0"
description:
  - What M(tachyon.infra.release_manifest) returns with O(tachyon.infra.release_manifest#module:state=read)
    (the same code) for a manifest on the controller - C(manifest) (normalized to the current
    format), C(legacy), C(version), C(services), C(environments), C(manifest_path). Never
    changes anything.
  - A missing, unreadable, non-JSON or schema-violating manifest fails the lookup naming the
    file and every violation, as the module does.
  - The deploy role reads the manifest with this lookup because the manifest lives in the
    controller's checkout; starting a module process to read it cost about half a second of
    every deploy. Writes stay with the module (atomic, under the manifest lock).
requirements:
  - jsonschema
options:
  _terms:
    description: Path of the manifest file (one).
    required: true
    type: list
    elements: path
"""

EXAMPLES = r"""
- name: Read the release manifest
  ansible.builtin.set_fact:
    release: "{{ lookup('tachyon.infra.release_manifest', playbook_dir ~ '/../releases/manifest.json') }}"
"""

RETURN = r"""
_raw:
  description: One dict with C(manifest), C(legacy), C(version), C(services), C(environments), C(manifest_path).
  type: list
  elements: dict
"""

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.plugin_utils.one_path_lookup import OnePathLookup


class LookupModule(OnePathLookup):
    errors = (mf.ManifestError,)

    def compute(self, path):
        return mf.read(path)
