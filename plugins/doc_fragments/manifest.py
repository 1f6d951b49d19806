# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The release manifest option, written once for every module that reads the manifest
(its argument spec: ``_release.manifest.MANIFEST_PATH_OPTION``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  manifest_path:
    description: The release manifest (C(releases/manifest.json)).
    type: path
    required: true
"""

    # The manifest's git history (argument spec: ``_release.revisions.HISTORY_OPTIONS``).
    HISTORY = r"""
options:
  git_history:
    description:
      - Also read the git history of O(manifest_path) (every committed version, through the same
        reader and legacy upgrade) and count the attempts earlier versions recorded that the file
        no longer holds (a legacy manifest kept only the last deployment per environment).
    type: bool
    default: false
  max_revisions:
    description: With O(git_history), how many of the latest commits that changed the file are read.
    type: int
    default: 200
"""
