# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""release_manifest on the controller: the module's work (module_utils/_release/manifest_task.py: the
same lock, atomic writes, check mode and diff) in the worker process when the task runs
locally, the module everywhere else (see plugin_utils/in_process)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest_task
from ansible_collections.tachyon.infra.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    argument_spec = manifest_task.ARGUMENT_SPEC
    validator_kwargs = {"required_if": manifest_task.REQUIRED_IF}
    logic = staticmethod(manifest_task.execute)
