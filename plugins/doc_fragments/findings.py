# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The option that says whether findings fail the task, written once for the validation modules
(env_schema, app_spec, secret_scan, change_windows; argument spec:
``_common.findings.FAIL_ON_FINDINGS_OPTION``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  fail_on_findings:
    description:
      - Fail when there is any finding. Set to V(false) to collect the findings and decide later
        (the validate role and C(make validate) do, to report every check at once).
    type: bool
    default: true
"""
