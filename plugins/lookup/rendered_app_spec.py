# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""An App Spec file rendered with image references, on the controller (no module process)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: rendered_app_spec
short_description: An App Spec file with image tags or digests set and SECRET values blank
version_added: "0.1.0"
description:
  - The same rendering as M(tachyon.infra.app_spec) with O(tachyon.infra.app_spec#module:state=rendered)
    (the same code), for a spec file on the controller. It returns the spec with C(image.tag) or
    C(image.digest) of the listed components set (the other one removed) and every SECRET
    env value blanked. It writes nothing.
  - A component that is unknown, has no image source, or is left with neither a tag nor a
    digest, and a file that is missing or not YAML, fail the lookup saying which.
  - The deploy role renders with this lookup because the spec lives in the controller's
    checkout and rendering is pure computation; starting a module process for it cost about
    half a second of every deploy.
options:
  _terms:
    description: Path of the App Spec YAML file (one).
    required: true
    type: list
    elements: path
  images:
    description:
      - Component name to a dict with exactly one of C(tag) or C(digest) (C(sha256:<64 hex>)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Render the staging spec with the release's tags
  ansible.builtin.set_fact:
    rendered_spec: >-
      {{ lookup('tachyon.infra.rendered_app_spec', playbook_dir ~ '/../.do/app.staging.yml',
                images={'api': {'tag': '4a09142'}, 'workers': {'tag': '2f9e050'}}) }}
"""

RETURN = r"""
_raw:
  description: The rendered App Spec (one dict), SECRET values blank.
  type: list
  elements: dict
"""

from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec as aps
from ansible_collections.tachyon.infra.plugins.plugin_utils.one_path_lookup import OnePathLookup


class LookupModule(OnePathLookup):
    errors = (ValueError,)

    def compute(self, path):
        return aps.render_file(path, self.get_option("images"))
