# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The delivery metrics options, written once for delivery_metrics and release_report (their
argument spec: ``_report.metrics.ARGUMENT_SPEC``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  since:
    description:
      - The window's start - a duration before O(window_end) (C(30d), C(12h), C(2w), C(90m)), a date
        (C(2026-05-01)), a UTC timestamp (C(2026-05-01T00:00:00Z)), or C(all) (from the first
        recorded attempt).
    type: str
    default: 30d
  window_end:
    description:
      - The window's end, a UTC timestamp (C(YYYY-MM-DDTHH:MM:SSZ)). Default now.
      - M(tachyon.infra.release_report) dates the page with it too.
    type: str
  environments:
    description: The environments to measure.
    type: list
    elements: str
    choices: [staging, production]
    default: [staging, production]
  repos:
    description:
      - Service name (the manifest's key) to its git remote URL (https, ssh or C(file://)), for
        the commit dates of the lead time. Empty - no lead time (the result says why).
    type: dict
    default: {}
  cache_dir:
    description: Where the bare fetches of the remotes are kept (one C(<service>.git) each), reused by later runs.
    type: path
    default: ~/.cache/tachyon-infra/repos
"""
