# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""app_rollback prints its progress live exactly like app_deploy (see plugins/action/app_deploy.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tachyon.infra.plugins.action.app_deploy import ActionModule  # noqa: F401 pylint: disable=unused-import
