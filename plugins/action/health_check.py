# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""health_check on the controller: the module's logic (module_utils/_platform/health.py) in the worker
process when the task runs locally, the module everywhere else (see plugin_utils/in_process)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tachyon.infra.plugins.module_utils._platform import health
from ansible_collections.tachyon.infra.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    argument_spec = health.ARGUMENT_SPEC
    logic = staticmethod(health.check)
