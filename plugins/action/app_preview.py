# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Controller-side wrapper for app_preview: prints its progress lines live (the app_deploy
action plugin's tail of the module's progress file, unchanged)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tachyon.infra.plugins.action.app_deploy import ActionModule as _DeployAction


class ActionModule(_DeployAction):
    """The same live progress as app_deploy (names the module in each line's prefix)."""
