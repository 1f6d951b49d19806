#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_drift
short_description: Report drift between a live App Platform app, the repo's App Spec and the release manifest
version_added: "0.3.0"
description:
  - Reads the live app (one C(GET /v2/apps/{id}) with pydo) and compares the spec of its active
    deployment with the repo's App Spec rendered with the image pins the release manifest records
    for O(environment), the running images with those pins, and the active deployment with the
    recorded one. Changes nothing.
  - Reports spec fields added, removed or changed (named lists matched by name/key, so a
    reordering is not drift), components running an image other than the recorded pin, and an
    active deployment other than the recorded one (naming its cause, e.g. a deploy from doctl).
  - App Platform's normalisations and defaults are not drift - a field the repo does not set
    whose live value is the default the OpenAPI documents, empty values godo omits, and fields the
    platform fills in itself (see plugins/module_utils/_platform/drift.py).
  - SECRET values are never shown. App Platform returns them encrypted (C(EV[...])), so they are
    compared by the keyed fingerprint the deploy stores in C(TACHYON_SECRETS_FINGERPRINT), when
    the run has the secret values (O(secrets), O(secrets_env_prefix)); otherwise the report says
    they were not compared.
  - After a rollback the manifest records, the app runs a new deployment cloned from the rollback
    target; that is in sync. So does a deployment a recorded rolling restart (C(playbooks/restart.yml)) made.
  - Reads App Platform's events (C(GET /v2/apps/{id}/events)) since the recorded deployment and
    reports what the manifest does not record - another client's deployment, an App Platform
    maintenance redeploy or automated rollback (a finding of kind C(event) when it is not the
    active deployment, which the C(deployment) finding names already), and autoscaling events (in
    C(report.events), not a finding - scaling is not configuration). Events that cannot be read
    are said in C(notes).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.app_platform
  - tachyon.infra.manifest
  - tachyon.infra.attributes.read_only
options:
  environment:
    description: The environment the app is (its record in the manifest).
    type: str
    required: true
    choices: [staging, production]
  spec_path:
    description: The repo's App Spec of the environment (e.g. C(.do/app.staging.yml)).
    type: path
    required: true
  services:
    description:
      - The service catalog (C(tachyon_services)) - C(name) (the manifest's service key) and
        C(component) (the App Spec component) of each service. Other keys are ignored.
    type: list
    elements: dict
    required: true
  secrets:
    description: SECRET env values by key, only to recompute the fingerprint. Never returned.
    type: dict
    default: {}
  secrets_env_prefix:
    description: A SECRET key missing from O(secrets) is read from the environment variable C(<prefix><KEY>).
    type: str
  inventory:
    description: The inventory to name in RV(report.fix_command) (e.g. C(inventories/staging)).
    type: str
  limit:
    description: The host limit to name in RV(report.fix_command) (for an inventory with both environments).
    type: str
  fix:
    description:
      - Add RV(report.fix_command) when drifted - the deploy (for a production app whose record
        is not the manifest's current release, the rollback) that brings the app back in line.
    type: bool
    default: false
  timeout:
    description: Seconds the API read may take, retries included.
    type: int
    default: 60
seealso:
  - module: tachyon.infra.app_deploy
"""

EXAMPLES = r"""
- name: Compare the staging app with the repo and the manifest
  tachyon.infra.app_drift:
    app_id: "{{ tachyon_do_app_id }}"
    environment: staging
    spec_path: "{{ playbook_dir }}/../.do/app.staging.yml"
    manifest_path: "{{ playbook_dir }}/../releases/manifest.json"
    services: "{{ tachyon_services }}"
    secrets_env_prefix: TACHYON_SECRET_
    inventory: inventories/staging
  register: drift

- name: Fail when drifted
  ansible.builtin.fail:
    msg: "{{ drift.text }}"
  when: drift.drifted
"""

RETURN = r"""
drifted:
  description: Whether any drift was found.
  returned: success
  type: bool
report:
  description:
    - The drift report - C(environment), C(app_id), C(status) (C(in_sync) or C(drifted)),
      C(findings) (each with C(kind) spec, image, deployment, event or secrets), C(notes), C(recorded),
      C(live), C(events) (App Platform's events since the recorded deployment that the manifest
      does not record - C({at, type, deployment_id, what, ours})), C(fix_command). No secret value,
      token or URL query string.
  returned: success
  type: dict
  contains:
    fix_command:
      description:
        - With O(fix) and drift, the command that brings the app back in line (the deploy, or
          for a production app whose record is not the manifest's current release, the
          rollback); otherwise V(null).
      returned: success
      type: str
text:
  description: The report as readable lines.
  returned: success
  type: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec as aps
from ansible_collections.tachyon.infra.plugins.module_utils._platform import drift
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._spec import diff as spec_diff
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import (
    HAS_PYDO,
    PYDO_IMPORT_ERROR,
    DOApiError,
    call,
    client_argument_spec,
    make_client,
)
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_module_results
from ansible_collections.tachyon.infra.plugins.module_utils._platform import signals


def run(module, client):
    p = module.params
    try:
        manifest = mf.read(p["manifest_path"])["manifest"]
    except mf.ManifestError as exc:
        module.fail_json(msg="cannot read the release manifest: %s" % exc)
    record = drift.recorded_state(manifest, p["environment"])
    catalog = [s for s in p["services"] if isinstance(s, dict) and s.get("name") and s.get("component")]
    try:
        images = drift.images_for(record, catalog) if record else {}
        repo_spec = aps.render_file(p["spec_path"], images) if images else aps.redact_secrets(aps.load_spec(p["spec_path"]))
    except (OSError, ValueError) as exc:
        module.fail_json(msg="cannot render the repo's App Spec %s with the recorded pins: %s" % (p["spec_path"], exc))
    secrets = dict((k, "" if v is None else str(v)) for k, v in (p["secrets"] or {}).items())
    if p["secrets_env_prefix"]:
        for _comp, key, _has in spec_diff.secret_envs(repo_spec):
            value = os.environ.get(p["secrets_env_prefix"] + str(key))
            if value and not secrets.get(key):
                secrets[key] = value
    module.no_log_values.update(v for v in secrets.values() if v)
    try:
        app = (call("get app", client.apps.get, p["app_id"], _app_id=p["app_id"]) or {}).get("app") or {}
    except DOApiError as exc:
        module.fail_json(msg="%s Nothing was compared." % exc)
    try:
        # App Platform's events (GET /v2/apps/{id}/events): what happened since the recorded deployment
        events = signals.read_events(client, p["app_id"])
        events_note = None
    except DOApiError as exc:
        events, events_note = None, "App Platform's events were not read (%s): unrecorded events are not reported" % exc
    report = drift.compare(app, repo_spec, record, catalog, secrets=secrets, token=p["token"],
                           environment=p["environment"], events=events, manifest=manifest)
    if events_note:
        report["notes"].append(events_note)
    report["fix_command"] = None
    if report["status"] == "drifted" and p["fix"]:
        report["fix_command"] = drift.fix_command(p["environment"], record, p["inventory"] or "inventories/%s" % p["environment"], p["limit"],
                                                  manifest_version=manifest.get("version"))
    module.exit_json(changed=False, drifted=report["status"] == "drifted", report=report,
                     text=drift.text_report(report))


def main():
    argument_spec = client_argument_spec()
    argument_spec.update(
        environment=dict(type="str", required=True, choices=["staging", "production"]),
        spec_path=dict(type="path", required=True),
        **mf.MANIFEST_PATH_OPTION,
        services=dict(type="list", elements="dict", required=True),
        secrets=dict(type="dict", default={}, no_log=True),
        secrets_env_prefix=dict(type="str", no_log=False),  # a variable name prefix, not a secret
        inventory=dict(type="str"),
        limit=dict(type="str"),
        fix=dict(type="bool", default=False),
        timeout=dict(type="int", default=60),
    )
    module = redact_module_results(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True))
    if not HAS_PYDO:
        module.fail_json(msg=missing_required_lib("pydo"), exception=PYDO_IMPORT_ERROR)
    if module.params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds")
    try:
        client = make_client(module.params["token"], module.params["api_endpoint"],
                             deadline=time.monotonic() + module.params["timeout"])
    except DOApiError as exc:
        module.fail_json(msg=str(exc))
    run(module, client)


if __name__ == "__main__":
    main()
