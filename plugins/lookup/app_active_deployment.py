# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The deployment an App Platform app runs now, read on the controller (one GET, pydo)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: app_active_deployment
short_description: The id of the deployment an App Platform app runs now
version_added: "0.2.0"
description:
  - One C(GET /v2/apps/{id}) with pydo (the client of M(tachyon.infra.app_deploy), with its
    retries and error messages); returns the id of the app's C(active_deployment), or null when
    the app has none. Changes nothing.
  - The deploy role reads it before taking the lock, to refuse an app whose live deployment
    the release manifest records for the other environment (the inventory's app id and token
    point at the wrong app).
  - The token is only sent to the API (https, or plain http to a loopback emulator); it is
    never part of the result or of an error message.
requirements:
  - pydo
options:
  _terms:
    description: The app id (one).
    required: true
    type: list
    elements: str
  token:
    description: DigitalOcean API token with read access to the app.
    required: true
    type: str
  api_endpoint:
    description: API endpoint.
    type: str
    default: https://api.digitalocean.com
  timeout:
    description: Seconds for the request (connect and read).
    type: float
    default: 30
"""

EXAMPLES = r"""
- name: What the staging app runs
  ansible.builtin.set_fact:
    live: >-
      {{ lookup('tachyon.infra.app_active_deployment', tachyon_do_app_id,
                token=tachyon_do_token, api_endpoint=tachyon_do_api_endpoint) }}
"""

RETURN = r"""
_raw:
  description: One item, the active deployment id (null when the app has no active deployment).
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.tachyon.infra.plugins.module_utils._platform import client as do_client


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1 or not isinstance(terms[0], str) or not terms[0]:
            raise AnsibleLookupError("app_active_deployment takes one app id (tachyon_do_app_id)")
        app_id = terms[0]
        try:
            client = do_client.make_client(self.get_option("token"), self.get_option("api_endpoint"),
                                           timeout=self.get_option("timeout"))
            result = do_client.call("get app", client.apps.get, app_id, _app_id=app_id)
        except do_client.DOApiError as exc:
            raise AnsibleLookupError(str(exc))
        app = (result or {}).get("app") or {}
        return [(app.get("active_deployment") or {}).get("id")]
