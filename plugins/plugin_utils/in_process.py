# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Run a module's logic in the worker process when the module would run on the controller.

A module task costs about half a second before the module does anything (building the
AnsiballZ payload, starting Python, importing ansible.module_utils). For a module whose logic
lives in module_utils and that would run on this very machine anyway, an action plugin can
call that logic directly. Only then: local connection, no become, no async, no task
``environment`` (which applies to a module process, not to this one). Anything else runs the
module as usual.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

LOCAL = ("local", "ansible.builtin.local")


def runs_here(action):
    """True when ``action``'s task may run its module's logic in this process."""
    task = action._task
    return (action._play_context.connection in LOCAL and not action._play_context.become
            and not task.async_val and not any(task.environment or []))


def run_module_logic(action, argument_spec, logic, task_vars, **validator_kwargs):
    """The task's result: the module if it must run elsewhere, else
    ``logic(params, check_mode, diff)``.

    ``logic`` returns ``(failed, result)`` like the module would exit. Arguments are validated
    with the module's own ``argument_spec`` and ``validator_kwargs`` (required_if, ...: same
    defaults, types and messages), and values of ``no_log`` options are masked in the result
    exactly as AnsibleModule masks them.
    """
    if not runs_here(action):
        # as ansible.builtin.normal runs a module (async included)
        wrap_async = bool(action._task.async_val) and not action._connection.has_native_async
        result = action._execute_module(module_name=action._task.action, module_args=action._task.args,
                                        task_vars=task_vars, wrap_async=wrap_async)
        if not wrap_async:
            action._remove_tmp_path(action._connection._shell.tmpdir)
        return result
    validation = ArgumentSpecValidator(argument_spec, **validator_kwargs).validate(action._task.args)
    if validation.error_messages:
        return dict(failed=True, changed=False, msg="; ".join(validation.error_messages))
    failed, result = logic(validation.validated_parameters, action._task.check_mode, action._task.diff)
    result = remove_values(result, validation._no_log_values)
    if failed:
        result["failed"] = True
    return result


class InProcessAction(ActionBase):
    """Action plugin of a module whose work is ``logic`` (see run_module_logic)."""

    _supports_check_mode = True
    _supports_async = True
    argument_spec = {}
    validator_kwargs = {}

    @staticmethod
    def logic(params, check_mode, diff):  # pragma: no cover - always overridden
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super(InProcessAction, self).run(tmp, task_vars)
        result.update(run_module_logic(self, self.argument_spec, self.logic, task_vars, **self.validator_kwargs))
        return result
