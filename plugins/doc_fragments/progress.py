# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The progress file option of the modules an action plugin follows live (app_deploy,
app_rollback, app_preview; argument spec: ``_common.progress.PROGRESS_OPTION``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  progress_file:
    description:
      - Internal. Path the module appends progress lines to; set by the action plugin, which
        prints them while the module runs. Lines never contain secret values.
    type: path
"""
