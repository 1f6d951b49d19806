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
