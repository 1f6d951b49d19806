# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""How the validation modules (env_schema, app_spec, secret_scan) end a run."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type


def finish(module, result, msg):
    """Exit the module from a ``run(params) -> (result, msg)`` pair.

    ``result is None``: bad input, fail with ``msg`` only. ``msg`` set: findings and
    ``fail_on_findings``, fail with ``msg`` and the findings. Otherwise exit with ``result``.
    """
    if result is None:
        module.fail_json(msg=msg)
    if msg:
        module.fail_json(msg=msg, **result)
    module.exit_json(**result)
