# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""Findings: the JSON path that names where one is (``json_path``), the option that says whether
findings fail the task (``FAIL_ON_FINDINGS_OPTION``, documented by doc fragment
tachyon.infra.findings) and how the validation modules (env_schema, app_spec, secret_scan) end a
run (``finish``)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re


def json_path(parts):
    """['services', 0, 'image'] -> '$.services[0].image'; a key that is not an identifier is
    quoted (['services', 'my-api'] -> '$.services["my-api"]')."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += "[%d]" % part
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            out += "." + str(part)
        else:
            out += "[%s]" % json.dumps(part)
    return out


FAIL_ON_FINDINGS_OPTION = {"fail_on_findings": dict(type="bool", default=True)}


def finish(module, result, msg):
    """Exit the module from a ``run(params) -> (result, msg)`` pair.

    ``result is None``: bad input, fail with ``msg`` only. ``msg`` set (the findings, in words)
    and ``fail_on_findings`` (default true): fail with ``msg`` and the findings. Otherwise exit
    with ``result``.
    """
    if result is None:
        module.fail_json(msg=msg)
    if msg and module.params.get("fail_on_findings", True):
        module.fail_json(msg=msg, **result)
    module.exit_json(**result)
