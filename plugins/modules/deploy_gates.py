#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: deploy_gates
short_description: Evaluate the promotion gates of a deploy and build its plan
version_added: 0.3.0
description:
  - Evaluates every gate of a deploy at once and reports each (pass or fail, with the reason),
    so a refusal names every condition that failed, not only the first.
  - In production, staging must still prove the release now - its live active deployment
    (read with O(staging_app_id) and O(staging_token)) is the one the manifest records for the
    release, one C(/health) of its live URL is healthy with O(expected_version), and at least
    O(soak_minutes) passed since staging was health-verified (C(health_verified_at)); the soak
    refusal says how long is left.
  - Flags whether the release carries a migration (its db-migrate pin differs from what the
    environment's live app runs, see C(plugins/module_utils/_release/migrations.py)).
  - Gates evaluated elsewhere (the manifest's promotion check, the digests, the lock and the
    freeze) are passed in O(extra_gates) and reported alongside.
  - Returns the plan (per component what runs now and what would run, the migration flag and
    the gates); with O(enforce) fails when a gate fails.
author:
  - Tachyon platform team (@tachyonapp)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes.no_diff
options:
  environment:
    description: The environment deployed (C(staging) or C(production)).
    type: str
    required: true
    choices: [staging, production]
  manifest:
    description: The release manifest (as the release_manifest lookup returns it under C(manifest)).
    type: dict
    required: true
  services:
    description: What the deploy would run, service name -> C({component, image, tag, sha, digest}).
    type: dict
    required: true
  target:
    description: M(tachyon.infra.app_verify)'s read of the target app (what runs now); omit when unknown.
    type: dict
    default: {}
  staging_app_id:
    description: Staging's app id (production only).
    type: str
  staging_token:
    description: A token that can read staging's app (production only; never logged).
    type: str
  api_endpoint:
    description: API endpoint.
    type: str
    default: https://api.digitalocean.com
  health_path:
    description: The health path of the live URL.
    type: str
    default: /health
  health_checks:
    description: Checks of the health payload that must be C(connected).
    type: list
    elements: str
    default: [postgres, redis]
  expected_version:
    description: The version staging's /health must report (the release's api tag or SHA).
    type: str
  staging_proof:
    description:
      - In production, evaluate the staging gates (staging's live deployment, its health now, the
        soak). V(false) for a rollback to a release production ran and verified itself
        (C(playbooks/rollback.yml -e tachyon_rollback_version)) - staging runs another release
        by then, and production's own record of it is the proof.
    type: bool
    default: true
  version:
    description: The release deployed, as the plan and a refusal name it (default - the manifest's current release).
    type: str
  soak_minutes:
    description: Minutes staging must have been verified before production deploys (0 = no soak).
    type: float
    default: 0
  extra_gates:
    description: Gates evaluated by other tasks, each C({name, ok, detail}).
    type: list
    elements: dict
    default: []
  enforce:
    description: Fail when a gate fails (the deploy role passes C(false) in check mode, to print the plan).
    type: bool
    default: true
notes:
  - Read-only (one app read and one deployment read of staging, one GET of its /health); C(changed) is always false.
attributes:
  check_mode:
    support: full
    details: Read-only; evaluates the same in check mode.
requirements:
  - pydo
"""

EXAMPLES = r"""
- name: Promotion gates of production
  tachyon.infra.deploy_gates:
    environment: production
    manifest: "{{ deploy_release.manifest }}"
    services: "{{ deploy_services }}"
    target: "{{ deploy_live }}"
    staging_app_id: "{{ tachyon_staging_do_app_id }}"
    staging_token: "{{ tachyon_staging_do_token }}"
    api_endpoint: "{{ tachyon_do_api_endpoint }}"
    expected_version: "{{ deploy_services['tachyon-api'].tag }}"
    soak_minutes: "{{ tachyon_soak_minutes }}"
"""

RETURN = r"""
gates:
  description: Every gate, C({name, ok, detail}).
  returned: always
  type: list
  elements: dict
migration:
  description: C({carries, service, pinned, running, reason}) (see plugins/module_utils/_release/migrations.py).
  returned: always
  type: dict
components:
  description: Per service C({service, component, now, next, change}).
  returned: always
  type: list
  elements: dict
plan:
  description: The plan, one line per item.
  returned: always
  type: list
  elements: str
"""

import datetime
import json
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._platform import client as do_client
from ansible_collections.tachyon.infra.plugins.module_utils._plan import gates
from ansible_collections.tachyon.infra.plugins.module_utils._platform import health
from ansible_collections.tachyon.infra.plugins.module_utils._platform import live_app
from ansible_collections.tachyon.infra.plugins.module_utils._release import migrations
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_url


def staging_gates(p, manifest, services):
    """The three staging gates (live deployment, healthy now, soak)."""
    out = []
    if not p["staging_app_id"] or not p["staging_token"]:
        out.append(gates.gate("staging live deployment", False,
                              "this inventory does not know staging's app: set tachyon_staging_do_app_id and "
                              "tachyon_staging_do_token (production reads DO_APP_ID and DIGITALOCEAN_ACCESS_TOKEN, "
                              "staging's names)"))
        out.append(gates.gate("staging healthy now", False, "staging's app is unknown (see above)"))
    else:
        try:
            client = do_client.make_client(p["staging_token"], p["api_endpoint"], timeout=15,
                                           deadline=time.monotonic() + 15)
            app, dep = live_app.read(client, p["staging_app_id"])
        except do_client.DOApiError as exc:
            app, dep = None, None
            out.append(gates.gate("staging live deployment", False, "reading staging's app failed: %s" % exc))
            out.append(gates.gate("staging healthy now", False, "staging's app could not be read"))
        if app is not None:
            live = {"active_deployment_id": (app.get("active_deployment") or {}).get("id"),
                    "components": live_app.components(dep) if dep else {}}
            out.append(gates.staging_live_gate(manifest, live, services))
            url = (app.get("live_url") or "").rstrip("/") + p["health_path"]
            if not app.get("live_url"):
                out.append(gates.gate("staging healthy now", False, "staging's app has no live URL"))
            else:
                payload, problem = health.poll_once(url, {}, True, 10)
                out.append(gates.staging_health_gate(redact_url(url), None, payload, problem,
                                                     p["expected_version"], p["health_checks"]))
    out.append(gates.soak_gate(manifest["environments"]["staging"].get("health_verified_at"), p["soak_minutes"],
                               datetime.datetime.now(datetime.timezone.utc)))
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            environment=dict(type="str", required=True, choices=["staging", "production"]),
            manifest=dict(type="dict", required=True),
            services=dict(type="dict", required=True),
            target=dict(type="dict", default={}),
            staging_app_id=dict(type="str"),
            staging_token=dict(type="str", no_log=True),
            api_endpoint=dict(type="str", default=do_client.DEFAULT_ENDPOINT),
            health_path=dict(type="str", default="/health"),
            health_checks=dict(type="list", elements="str", default=["postgres", "redis"]),
            expected_version=dict(type="str"),
            soak_minutes=dict(type="float", default=0.0),
            staging_proof=dict(type="bool", default=True),
            version=dict(type="str"),
            extra_gates=dict(type="list", elements="dict", default=[]),
            enforce=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    manifest, services = p["manifest"], p["services"]
    if p["soak_minutes"] < 0:
        module.fail_json(msg="soak_minutes must be 0 or more (tachyon_soak_minutes), got %s" % p["soak_minutes"])
    target_components = (p["target"] or {}).get("components")
    live_pin = None
    if target_components is not None:
        comp = (services.get(migrations.MIGRATE_SERVICE) or {}).get("component") or "db-migrate"
        running = target_components.get(comp)
        live_pin = {"tag": running.get("tag"), "digest": running.get("digest")} if running else None
        migration = migrations.carries_migration(services.get(migrations.MIGRATE_SERVICE), live_pin,
                                                 source="%s's live app" % p["environment"])
    else:
        migration = migrations.release_carries_migration(manifest, p["environment"])
    results = [gates.gate(str(g.get("name")), bool(g.get("ok")), str(g.get("detail") or "")) for g in p["extra_gates"]]
    if p["environment"] == "production" and p["staging_proof"]:
        results.extend(staging_gates(p, manifest, services))
    version = p["version"] or manifest.get("version")
    rows = gates.now_and_next(services, target_components or {})
    plan = gates.plan_lines(p["environment"], version, rows, migration, results)
    failing = [g for g in results if not g["ok"]]
    result = dict(changed=False, gates=results, migration=migration, components=rows, plan=plan)
    if failing and p["enforce"]:
        module.fail_json(msg="%s deploy of release %s refused: %s."
                         % (p["environment"], version,
                            "; ".join("gate '%s' failed: %s" % (g["name"], g["detail"]) for g in failing)),
                         **result)
    module.exit_json(msg="%s gates: %s" % (p["environment"], json.dumps({g["name"]: g["ok"] for g in results})),
                     **result)


if __name__ == "__main__":
    main()
