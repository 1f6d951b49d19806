#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: deploy_plan
short_description: Read everything a deploy decides on once and return one plan
version_added: 0.4.0
description:
  - Read-only. Reads, each once, the release manifest, the services' commits (staging - the
    given SHAs or each repo's branch head, all C(git ls-remote)s at once; production - what
    staging ran; a rollback to a release - the pins it recorded), the registry's digest of
    every image, the target app (its spec, live URL, active and pending deployments), for a
    production promotion staging's app and one C(/health) of it, and the deploy lock and freeze.
  - Decides every gate in one place (C(plugins/module_utils/_plan/gates.py); adding a gate is
    one function there, see docs/docsite/rst/adding_a_gate.rst) and returns one plan - per component from ->
    to (commit, digest), the migration flag, each gate with its verdict and reason, the rendered
    App Spec the deploy applies (no secret values), the target app as read (the deploy applies
    the plan without reading the app again), and the decision C(deploy), C(nothing) (the app
    runs these images already) or C(refused).
  - Fails when the plan is refused, naming every failing gate, in check mode too (so
    C(--check) can gate CI and AWX); the plan is returned with the failure.
extends_documentation_fragment:
  - tachyon.infra.app_platform
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes
attributes:
  check_mode:
    support: full
    details: Reads only; check mode is the same run.
  diff_mode:
    support: none
options:
  environment:
    description: The environment deployed (the inventory group), C(staging) or C(production).
    type: str
    required: true
  play_hosts:
    description: The hosts of the play; a deploy targets exactly one environment (one host).
    type: list
    elements: str
    default: []
  host:
    description: The inventory host, named in messages.
    type: str
  manifest_path:
    description: The release manifest (releases/manifest.json).
    type: path
    required: true
  spec_path:
    description: The App Spec of the environment, rendered with the plan's images.
    type: path
    required: true
  services:
    description: The service catalog (tachyon_services), each C({name, component, repo, image}).
    type: list
    elements: dict
    required: true
  version:
    description: The release requested (required for production; staging - must equal the manifest's when given).
    type: str
  approved_by:
    description: Production approver.
    type: str
  shas:
    description: Staging - service name -> 7-40 hex SHA; a service without one deploys its repo's branch head.
    type: dict
    default: {}
  repo_base_url:
    description: Base URL of the service repos (C(<base>/<repo>.git)).
    type: str
    default: https://github.com/tachyonapp
  repo_urls:
    description: Service name -> repo URL overrides.
    type: dict
    default: {}
  repo_branch:
    description: The branch resolved for services without a SHA.
    type: str
    default: main
  repo_cache:
    description:
      - The release notes' cache of the service repos (C(tachyon_repo_cache)); each commit's
        subject is read from it when it holds the commit (never fetched by the plan).
    type: path
  rollback_version:
    description: A rollback to this release - its recorded pins are the plan's services.
    type: str
  registry_endpoints:
    description: Registry host -> base URL.
    type: dict
    default: {}
  registry_username:
    description: Registry user.
    type: str
  registry_password:
    description: Registry password or token. Never logged.
    type: str
  digests:
    description: Service name -> C(sha256:<64 hex>) the registry's tag must still point at.
    type: dict
    default: {}
  allow_tag_only:
    description: Deploy a service by tag when it has no digest.
    type: bool
    default: false
  staging_app_id:
    description: Production - staging's app id, read for the promotion gates.
    type: str
  staging_token:
    description: Production - a token that can read staging's app. Never logged.
    type: str
  staging_proof:
    description: Production - require staging's live proof and soak (false for a rollback to a release production ran).
    type: bool
    default: true
  health_path:
    description: Health endpoint path.
    type: str
    default: /health
  health_checks:
    description: Checks of the health payload that must be C(connected).
    type: list
    elements: str
    default: [postgres, redis]
  soak_minutes:
    description: Production - minutes staging must have been health-verified before.
    type: float
    default: 0
  maintenance_mode:
    description:
      - The environment's maintenance mode for a release that carries a migration (the app answers
        an offline page while it runs, see M(tachyon.infra.app_maintenance)) - V(off) (not used),
        V(on) (used), V(ask) (refused until O(maintenance) says V(yes) or V(no); meant for
        production). The plan's RV(maintenance) says what the deploy does.
    type: str
    default: "off"
    choices: ["off", "on", "ask"]
  maintenance:
    description: This run's choice for a release that carries a migration (V(yes) - maintenance mode, V(no) - not); empty - the mode decides.
    type: str
    default: ""
    choices: ["", "yes", "no"]
  maintenance_leftover:
    description:
      - Maintenance left on by an earlier run (its marker beside the manifest, or the live spec) -
        V(refuse) the deploy until someone decides (the refusal names the command that turns it
        off), or V(turn_off) first.
    type: str
    default: refuse
    choices: [refuse, turn_off]
  offline_page_url:
    description: The offline page App Platform shows in maintenance mode (https; App Platform's own page when not set).
    type: str
  smoke_checks:
    description: The smoke check list, checked for form here (run after the deploy).
    type: list
    elements: dict
    default: []
  lock_remote:
    description: The hub's git remote holding the lock and the freeze (empty - the local lock file).
    type: str
  lock_repo_dir:
    description: The hub checkout whose git knows O(lock_remote).
    type: path
  lock_path:
    description: The local lock file (without O(lock_remote)).
    type: path
  read_lock:
    description: Read the lock and the freeze for the plan.
    type: bool
    default: true
  read_apps:
    description:
      - Read the target app, for a promotion staging's app, and the registry. C(false) - the
        manifest only (the promotion check of deploy-prod.yml, which has no DigitalOcean token);
        the gates that need the apps or the registry do not apply then.
    type: bool
    default: true
  break_glass:
    description: A reason to deploy past a freeze (recorded in the history).
    type: str
  change_windows:
    description:
      - The change windows of the environment (C(tachyon_change_windows) of its inventory
        group_vars), each C({name, kind, zone, start, end, days, rollbacks, priority}); see
        docs/docsite/rst/change_windows.rst. Decided at the plan's own clock (no option moves
        it). A deploy inside a C(deny) window or outside every C(allow) window is refused naming
        the window and its end in its zone and in UTC; a rollback is refused only by a window
        with C(rollbacks=deny). Malformed windows refuse the plan naming the window and field.
      - Empty - no change window gate.
    type: list
    elements: dict
    default: []
  override:
    description:
      - The id of an incident override (C(tachyon_override), from C(playbooks/override.yml))
        that lets this one deploy through a change window. It must be for this environment and
        this release (its pins), unexpired, unused and, for production, approved by another
        person than its requester; the plan refuses naming why otherwise. Read from where the
        lock is kept (O(lock_remote), else beside O(lock_path)); the deploy consumes it
        (M(tachyon.infra.change_override) with C(state=consumed)), the plan never writes.
    type: str
"""

EXAMPLES = r"""
- name: The plan of the deploy
  tachyon.infra.deploy_plan:
    environment: staging
    app_id: "{{ tachyon_do_app_id }}"
    manifest_path: releases/manifest.json
    spec_path: .do/app.staging.yml
    services: "{{ tachyon_services }}"
  register: plan
"""

RETURN = r"""
maintenance:
  description:
    - C(use) (turn maintenance on before the deploy - the release carries a migration and the
      environment's mode says so), C(turn_off_first) (an earlier run left it on), C(why),
      C(offline_page_url), C(left_on) (what was found left on, or null).
  returned: always
  type: dict
decision:
  description: C(deploy), C(nothing) (the app runs these images already) or C(refused).
  returned: always
  type: str
version:
  description: The release the plan deploys.
  returned: when the manifest was read
  type: str
services:
  description: Service name -> C({sha, tag, image, digest, component}) the plan deploys.
  returned: when the manifest was read
  type: dict
components:
  description: Per service C({service, component, from, to, change}); from/to carry sha, digest and ref.
  returned: when the manifest was read
  type: list
  elements: dict
gates:
  description: Every gate, C({name, ok, detail, blocking}).
  returned: when the manifest was read
  type: list
  elements: dict
refusals:
  description: The failing blocking gates, one line each.
  returned: when the manifest was read
  type: list
  elements: str
migration:
  description: Whether the release carries a migration onto this environment, C({carries, reason, ...}).
  returned: when the manifest was read
  type: dict
spec:
  description: The rendered App Spec (images set; secret values blank).
  returned: unless refused
  type: dict
target:
  description: The target app as read - C({app_id, active_deployment_id, live_url, problem, app}).
  returned: when the manifest was read
  type: dict
windows:
  description:
    - The change windows decided now - C({allowed, reason, window, current, next, allowed_from,
      rollback}); each window occurrence C({name, kind, zone, definition, start_utc, end_utc,
      start_local, end_local, rollbacks, priority}). None without windows.
  returned: when the manifest was read
  type: dict
override:
  description:
    - The incident override this deploy goes through a change window with (the deploy consumes
      it) - C({id, requested_by, approved_by, reason, expires_at, text}); None when none is used.
  returned: when the manifest was read
  type: dict
table:
  description: The plan as a few lines for a person.
  returned: when the manifest was read
  type: list
  elements: str
plan:
  description: The table as one text, with a refusal (the rest of the plan is not returned then).
  returned: when refused
  type: str
msg:
  description: The table as one text, or the refusal with every failing gate and what unblocks it.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import client_argument_spec
from ansible_collections.tachyon.infra.plugins.module_utils._plan import plan as deploy_plan


def main():
    argument_spec = client_argument_spec()
    argument_spec.update(
        environment=dict(type="str", required=True),
        play_hosts=dict(type="list", elements="str", default=[]),
        host=dict(type="str"),
        manifest_path=dict(type="path", required=True),
        spec_path=dict(type="path", required=True),
        services=dict(type="list", elements="dict", required=True),
        version=dict(type="str"),
        approved_by=dict(type="str"),
        shas=dict(type="dict", default={}),
        repo_base_url=dict(type="str", default="https://github.com/tachyonapp"),
        repo_urls=dict(type="dict", default={}),
        repo_branch=dict(type="str", default="main"),
        repo_cache=dict(type="path"),
        rollback_version=dict(type="str"),
        registry_endpoints=dict(type="dict", default={}),
        registry_username=dict(type="str"),
        registry_password=dict(type="str", no_log=True),
        digests=dict(type="dict", default={}),
        allow_tag_only=dict(type="bool", default=False),
        staging_app_id=dict(type="str"),
        staging_token=dict(type="str", no_log=True),
        staging_proof=dict(type="bool", default=True),
        health_path=dict(type="str", default="/health"),
        health_checks=dict(type="list", elements="str", default=["postgres", "redis"]),
        soak_minutes=dict(type="float", default=0.0),
        smoke_checks=dict(type="list", elements="dict", default=[]),
        lock_remote=dict(type="str"),
        lock_repo_dir=dict(type="path"),
        lock_path=dict(type="path"),
        read_lock=dict(type="bool", default=True),
        read_apps=dict(type="bool", default=True),
        break_glass=dict(type="str"),
        maintenance_mode=dict(type="str", default="off", choices=["off", "on", "ask"]),
        maintenance=dict(type="str", default="", choices=["", "yes", "no"]),
        maintenance_leftover=dict(type="str", default="refuse", choices=["refuse", "turn_off"]),
        offline_page_url=dict(type="str"),
        change_windows=dict(type="list", elements="dict", default=[]),
        override=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if p["environment"] not in ("staging", "production") or len(p["play_hosts"]) > 1:
        module.fail_json(msg="deploy.yml deploys exactly one environment per run (staging or production), taken from "
                             "the inventory; this play targets %s with environment '%s'. Use -i inventories/staging, -i "
                             "inventories/production, or limit the sandbox: -i inventories/sandbox -l staging."
                             % (", ".join(p["play_hosts"]), p["environment"]), decision="refused")
    if p["soak_minutes"] < 0:
        module.fail_json(msg="soak_minutes must be 0 or more (tachyon_soak_minutes), got %s" % p["soak_minutes"],
                         decision="refused")
    try:
        plan = deploy_plan.build(p, module.check_mode)
    except deploy_plan.PlanError as exc:
        module.fail_json(msg=str(exc), decision="refused")
    text = "\n".join(plan["table"])
    if plan["decision"] == "refused":
        module.fail_json(msg="%s deploy of release %s refused: %s.%s Nothing was deployed."
                         % (plan["environment"], plan["version"], "; ".join(plan["refusals"]),
                            (" To unblock: %s." % plan["unblock"]) if plan["unblock"] else ""),
                         # what the rescue records (the attempt) and the table; not the whole plan
                         changed=False, decision="refused", plan="\n".join(plan["table"]),
                         version=plan["version"], services=plan["services"])
    module.exit_json(changed=False, msg=text, **plan)


if __name__ == "__main__":
    main()
