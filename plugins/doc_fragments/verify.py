# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The option ``verify`` of the modules that verify an app once a deployment of theirs is ACTIVE
(app_deploy, app_restart), written once; its argument spec: ``_platform.verify.VERIFY_OPTIONS``.
Each module gives ``verify`` its own description (what it verifies besides these checks, and
whether it verifies by default) and keeps these suboptions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  verify:
    description: How the app is verified once the deployment is ACTIVE.
    type: dict
    suboptions:
      health_path:
        description: Health endpoint path on the live URL.
        type: str
        default: /health
      expected_version:
        description: The version C(/health) must report (the api image tag or SHA).
        type: str
      checks:
        description: Checks of the health payload that must be C(connected).
        type: list
        elements: str
        default: [postgres, redis]
      consecutive:
        description: Healthy polls in a row.
        type: int
        default: 2
      health_timeout:
        description: Seconds to wait for health.
        type: float
        default: 300
      max_interval:
        description: Longest pause between health polls.
        type: float
        default: 0.5
      services:
        description:
          - Service name -> pin C({sha, tag, digest, component}) every component must run, read back
            from the API with the migration job's outcome (see M(tachyon.infra.app_verify)).
        type: dict
      smoke_checks:
        description: HTTP checks run against the live URL after the health check.
        type: list
        elements: raw
        default: []
      platform_health:
        description:
          - After the health check, read App Platform's own component health
            (C(GET /v2/apps/{id}/health)) - a component it reports UNHEALTHY, or still UNKNOWN
            after O(verify.platform_health_timeout), fails the verification naming it - and the
            app's events since the task started (C(GET /v2/apps/{id}/events)). Both go into
            RV(health) (C(platform), C(timeline)).
        type: bool
        default: true
      platform_health_timeout:
        description:
          - Seconds to wait for App Platform to report the components HEALTHY (an UNHEALTHY one fails at
            once) - every component after a deploy, the restarted ones after a restart.
        type: float
        default: 30
"""
