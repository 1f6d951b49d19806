# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Options every App Platform module takes (argument spec: ``_platform.client.client_argument_spec``),
and, in ``WAIT``, those of a module that waits for the deployment it starts
(``_platform.client.wait_argument_spec``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  app_id:
    description: The App Platform app id.
    type: str
    required: true
  token:
    description:
      - DigitalOcean API token with C(app:read) and C(app:update) on the app.
      - Defaults to the C(DIGITALOCEAN_ACCESS_TOKEN) environment variable. Never logged.
    type: str
  api_endpoint:
    description:
      - API base URL. Point it at the App Platform emulator for the sandbox and tests
        (plain http is accepted for a localhost endpoint only).
    type: str
    default: https://api.digitalocean.com
requirements:
  - pydo
notes:
  - Give O(token) and O(api_endpoint) once per play, to every App Platform module, with
    C(module_defaults) on the action group C(group/tachyon.infra.platform) (as the playbooks do).
"""

    # app_restart, app_maintenance: the deployment the task starts (a restart, a maintenance change)
    WAIT = r"""
options:
  timeout:
    description: Seconds to wait for the deployment the task starts to become ACTIVE.
    type: int
    default: 600
  poll_interval:
    description: Longest pause between polls of the deployment.
    type: float
    default: 1.0
"""
