#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_preview
short_description: Create, update, delete and reap pull-request preview apps on DigitalOcean App Platform
version_added: "0.3.0"
description:
  - O(state=present) makes the preview app of one pull request from the staging App Spec (images
    already rendered) and waits until its deployment is C(ACTIVE). The preview is named
    C(<repo>-pr<N>-<hash>) (at most 32 characters, App Platform's name pattern), carries the hub's
    marker (the app-level env C(TACHYON_PREVIEW=<repo>#<pr>)), has no domains and no alerts, runs
    every service, worker and job on the smallest instance size (C(apps-s-1vcpu-0.5gb), one
    instance, no autoscaling), turns the databases into dev databases (or points them at a
    cluster set aside for previews, O(clusters)) and gets only its own secret values
    (O(secrets)); a SECRET env without a preview value is left out of the preview.
  - The first run creates the app (C(POST /v2/apps)); later runs update the same app
    (C(PUT /v2/apps/{id}) with C(update_all_source_versions)); an unchanged spec deploys nothing.
  - O(state=absent) deletes the preview app (C(DELETE /v2/apps/{id})); a missing app is no change.
  - O(state=reaped) lists the account's apps (C(GET /v2/apps)) and deletes the previews older than
    O(ttl_hours) since their last deployment, or whose pull request is in O(closed) (or, with
    O(open), not in it).
  - Only apps that carry the marker AND whose name is the one derived from that marker are
    previews. Any other app, whatever its name, is never updated or deleted; an app holding a
    preview's name without the marker makes O(state=present) and O(state=absent) fail.
  - Previews are recorded nowhere else (not in the release manifest); the account's app list with the marker says which exist.
  - No secret value (O(secrets), the token) appears in a message, progress line, diff or result.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes
  - tachyon.infra.progress
options:
  state:
    description: What to do.
    type: str
    choices: [present, absent, reaped]
    default: present
  token:
    description:
      - DigitalOcean API token of the account the previews live in (C(app:create), C(app:read),
        C(app:update), C(app:delete)). Defaults to C(DIGITALOCEAN_ACCESS_TOKEN). Never logged.
    type: str
  api_endpoint:
    description: API base URL (the App Platform emulator for the sandbox; plain http only for localhost).
    type: str
    default: https://api.digitalocean.com
  repo:
    description: The service repository of the pull request (C(owner/name) or C(name)). Required unless O(state=reaped).
    type: str
  pr:
    description: The pull request number (or a branch name). Required unless O(state=reaped).
    type: str
  spec_path:
    description:
      - The staging App Spec file the preview is made from (C(.do/app.staging.yml)). Required for
        O(state=present).
    type: path
  pins:
    description:
      - What production runs now, service name to C({sha, tag, digest}) (the release manifest's
        C(environments.production.services)). Every service but O(service) runs at its pin.
    type: dict
  services:
    description: The service catalog (C(tachyon_services)), entries with C(name) and C(component).
    type: list
    elements: dict
  service:
    description: The service under review (its name in O(services)).
    type: str
  sha:
    description: The pull request's commit SHA the image of O(service) was built from.
    type: str
  digest:
    description: The registry digest (C(sha256:...)) of that image; the preview deploys it by digest.
    type: str
  secrets:
    description:
      - The preview's own SECRET env values by key (never production's or staging's). A SECRET
        env without a value here is left out of the preview; a C(${...}) binding is kept.
    type: dict
    default: {}
  clusters:
    description:
      - Database component name to a database cluster set aside for previews, for databases that
        cannot be dev databases (e.g. C(redis)). A cluster of the staging spec or of
        O(forbidden_clusters) is refused.
    type: dict
    default: {}
  dev_engines:
    description: Database engines turned into dev databases (C(production=false), no cluster).
    type: list
    elements: str
    default: [PG]
  forbidden_clusters:
    description: Cluster names a preview must never use (production's), besides the staging spec's own.
    type: list
    elements: str
    default: []
  ttl_hours:
    description: With O(state=reaped), previews not deployed for longer than this are deleted.
    type: float
    default: 72
  closed:
    description: With O(state=reaped), pull requests (C(repo#pr)) whose previews are deleted.
    type: list
    elements: str
    default: []
  open:
    description:
      - With O(state=reaped), when given, the pull requests still open (C(repo#pr)); previews of
        any other pull request are deleted.
    type: list
    elements: str
  wait:
    description: Wait for the deployment to become ACTIVE (O(state=present)).
    type: bool
    default: true
  timeout:
    description: Seconds the whole task may take (API calls, retries and the wait).
    type: int
    default: 900
  poll_interval:
    description: Longest pause between deployment polls.
    type: float
    default: 1
attributes:
  check_mode:
    support: full
    details: Reports what would be created, updated or deleted; changes nothing.
  diff_mode:
    support: full
    details: Before/after preview App Spec, SECRET values shown as C(REDACTED).
notes:
  - Age for O(state=reaped) is counted from the app's C(updated_at) (the hub's last deployment of
    it), else its C(created_at).
seealso:
  - module: tachyon.infra.app_deploy
  - module: tachyon.infra.health_check
"""

EXAMPLES = r"""
# token and api_endpoint come from the play's module_defaults for group/tachyon.infra.platform
# (see the notes).
- name: Deploy the preview of tachyon-api PR 42
  tachyon.infra.app_preview:
    repo: tachyonapp/tachyon-api
    pr: "42"
    spec_path: .do/app.staging.yml
    pins: "{{ release.manifest.environments.production.services }}"
    services: "{{ tachyon_services }}"
    service: tachyon-api
    sha: "{{ pr_sha }}"
    digest: "{{ pr_digest.services['tachyon-api'].digest }}"
    secrets: "{{ tachyon_preview_secrets }}"
    clusters: {redis: tachyon-redis-preview}
  register: preview

- name: Delete it when the pull request is closed
  tachyon.infra.app_preview:
    state: absent
    repo: tachyonapp/tachyon-api
    pr: "42"

- name: Reap forgotten previews
  tachyon.infra.app_preview:
    state: reaped
    ttl_hours: 72
    closed: ["tachyonapp/tachyon-api#40"]
"""

RETURN = r"""
name:
  description: The preview's app name.
  returned: state is present or absent
  type: str
  sample: tachyon-api-pr42-6bbbd7
app_id:
  description: The preview app's id (null when there is none).
  returned: state is present or absent
  type: str
created:
  description: Whether this run created the app.
  returned: state is present
  type: bool
deployment_id:
  description: The deployment made (or the active one when unchanged).
  returned: state is present
  type: str
live_url:
  description: The preview's URL.
  returned: state is present
  type: str
elapsed:
  description: Seconds from the start of the task to the deployment seen ACTIVE.
  returned: state is present
  type: float
images:
  description: Which image each service runs (the pull request's, production's pins).
  returned: state is present
  type: list
  elements: str
notes:
  description: What was changed from the staging spec to make the preview (no values).
  returned: state is present
  type: list
  elements: str
reaped:
  description: The previews deleted (or, in check mode, that would be), with name, id, ref, age_hours and reason.
  returned: state is reaped
  type: list
  elements: dict
kept:
  description: The previews left alone.
  returned: state is reaped
  type: list
  elements: dict
other_apps:
  description: How many apps of the account are no previews (never touched).
  returned: state is reaped
  type: int
"""

import datetime
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec
from ansible_collections.tachyon.infra.plugins.module_utils._platform import preview as pv
from ansible_collections.tachyon.infra.plugins.module_utils._spec import diff as spec_diff
from ansible_collections.tachyon.infra.plugins.module_utils._platform.deployments import (
    DeploymentFailed,
    failure_report,
    in_progress,
    is_ours,
    wait_for_deployment,
)
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import (
    DEFAULT_ENDPOINT,
    HAS_PYDO,
    NO_RETRY,
    PYDO_IMPORT_ERROR,
    TOKEN_ENV,
    DOApiError,
    _env_fallback,
    call,
    make_client,
    set_deadline,
)
from ansible_collections.tachyon.infra.plugins.module_utils._common.progress import PROGRESS_OPTION, ProgressLog
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_module_results

PER_PAGE = 100


class Previews(object):
    def __init__(self, module, client, clock=time.monotonic, now=None):
        self.module = module
        self.p = module.params
        self.client = client
        self.clock = clock
        self.now = now or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self.progress = ProgressLog(self.p.get("progress_file"))
        self.lines = self.progress.lines
        self.started = clock()
        self.deadline = self.started + self.p["timeout"]
        set_deadline(client, self.deadline)

    def fail(self, msg, **extra):
        extra.setdefault("changed", False)
        self.module.fail_json(msg=msg, progress_lines=self.lines, **extra)

    # ---- reading ---------------------------------------------------------------------
    def list_apps(self):
        apps, page = [], 1
        while True:
            resp = call("list apps", self.client.apps.list, page=page, per_page=PER_PAGE) or {}
            batch = resp.get("apps") or []
            apps.extend(batch)
            if not batch or not ((resp.get("links") or {}).get("pages") or {}).get("next"):
                return apps
            page += 1

    def find(self, name):
        """The app named ``name``, or None; fails when it is not the hub's preview of repo#pr."""
        for app in self.list_apps():
            if (app.get("spec") or {}).get("name") == name:
                if pv.marker_of(app) != (self.p["repo"], str(self.p["pr"])):
                    self.fail("an app named %s exists (id %s) but it is not the hub's preview of %s#%s (it has no "
                              "TACHYON_PREVIEW marker for it): it is left alone. Rename or delete it by hand."
                              % (name, app.get("id"), self.p["repo"], self.p["pr"]), app_id=app.get("id"), name=name)
                return app
        return None

    # ---- present -----------------------------------------------------------------------
    def present(self):
        p = self.p
        try:
            images, summary = pv.preview_images(p["pins"], p["services"], p["service"], p["sha"], p["digest"])
            # not render_file: it blanks every SECRET value, ${...} bindings included; preview_spec
            # keeps the bindings and never carries a literal SECRET value into the preview
            base = app_spec.render_images(app_spec.load_spec(p["spec_path"]), images)
        except (ValueError, OSError) as exc:  # PreviewError is a ValueError
            self.fail("%s. Nothing was deployed." % exc)
        for line in summary:
            self.progress(line)
        secrets = {k: "" if v is None else str(v) for k, v in (p["secrets"] or {}).items()}
        self.module.no_log_values.update(v for v in secrets.values() if v)
        try:
            spec, notes = pv.preview_spec(base, p["repo"], p["pr"], secrets=secrets, clusters=p["clusters"],
                                          dev_engines=tuple(p["dev_engines"]),
                                          forbidden_clusters=p["forbidden_clusters"])
        except pv.PreviewError as exc:
            self.fail("%s. Nothing was deployed." % exc)
        spec_diff.set_fingerprint(spec, spec_diff.fingerprint(spec, p["token"]))
        desired = spec_diff.redact(spec)
        name = spec["name"]
        try:
            app = self.find(name)
        except DOApiError as exc:
            self.fail(str(exc), name=name)
        result = dict(name=name, app_id=(app or {}).get("id"), created=False, notes=notes, images=summary,
                      live_url=(app or {}).get("live_url"))
        active = (app or {}).get("active_deployment") or {}
        changed, before, after = spec_diff.compare(desired, active.get("spec") or (app or {}).get("spec") or {}) \
            if app else (True, {}, desired)
        running = self.running_deployment(app, desired) if app else None
        result.update(changed=changed, deployment_id=active.get("id"))
        if self.module._diff:
            result["diff"] = dict(before=spec_diff.to_text(before) if app else "",
                                  after=spec_diff.to_text(after),
                                  before_header="live preview %s" % name if app else "(no preview app)",
                                  after_header="preview spec")
        if self.module.check_mode or (not changed and not running):
            if self.module.check_mode and changed:
                result["msg"] = "would %s preview %s" % ("update" if app else "create", name)
            result["progress_lines"] = self.lines
            self.module.exit_json(**result)
        try:
            if running:
                dep_id = running["id"]
                self.progress("following deployment %s already running with this spec" % dep_id)
            elif app:
                resp = call("update preview %s" % name, self.client.apps.update, app["id"],
                            {"spec": spec, "update_all_source_versions": True}, **NO_RETRY)
                dep_id = (((resp or {}).get("app") or {}).get("pending_deployment") or {}).get("id")
                self.progress("preview %s updated: deployment %s" % (name, dep_id))
            else:
                app = self.create(spec, name)
                result.update(created=True, app_id=app.get("id"))
                dep_id = (app.get("pending_deployment") or {}).get("id")
                self.progress("preview %s created (app %s): deployment %s" % (name, app.get("id"), dep_id))
        except DOApiError as exc:
            self.fail("%s Nothing was deployed." % exc, name=name, app_id=result["app_id"])
        if not dep_id:
            self.fail("the API accepted the preview spec but reported no pending deployment", name=name,
                      app_id=app.get("id"), changed=True)
        result.update(changed=True, deployment_id=dep_id)
        if not p["wait"]:
            result["progress_lines"] = self.lines
            self.module.exit_json(**result)
        try:
            wait_for_deployment(self.client, app["id"], dep_id, self.deadline, p["poll_interval"], self.progress,
                                self.clock)
        except DeploymentFailed as exc:
            msg, details = failure_report(self.client, app["id"], exc.details, redact_values=secrets.values())
            self.fail("preview %s: %s" % (name, msg), failure=details, **dict(result, changed=True))
        except TimeoutError as exc:
            self.fail("preview %s: deployment %s did not become ACTIVE within %ss (%s); the app stays, the next push "
                      "or a rerun updates it" % (name, dep_id, p["timeout"], getattr(exc, "waiting_for", None)
                                                 or "waiting for ACTIVE"), **dict(result, changed=True))
        except DOApiError as exc:
            self.fail("preview %s: lost track of deployment %s: %s" % (name, dep_id, exc), **dict(result, changed=True))
        try:
            live = (call("get preview", self.client.apps.get, app["id"]) or {}).get("app") or {}
        except DOApiError as exc:
            self.fail("preview %s is ACTIVE but reading its URL failed: %s" % (name, exc), **dict(result, changed=True))
        result.update(live_url=live.get("live_url"), elapsed=round(self.clock() - self.started, 2),
                      progress_lines=self.lines)
        self.module.exit_json(**result)

    def running_deployment(self, app, desired):
        """A deployment of exactly this spec still in progress on the app (a rerun), or None."""
        for cand in (app.get("in_progress_deployment") or {}, app.get("pending_deployment") or {}):
            if not is_ours(cand, desired):
                continue
            if cand.get("phase") is None:  # pending_deployment carries only id and spec
                try:
                    found = call("get deployment %s" % cand["id"], self.client.apps.get_deployment, app["id"],
                                 cand["id"], _app_id=app["id"]) or {}
                except DOApiError as exc:
                    self.progress("could not read deployment %s (%s): not counted as running" % (cand["id"], exc))
                    continue
                cand = dict(found.get("deployment") or {}, **cand)
            if in_progress(cand):
                return cand
        return None

    def create(self, spec, name):
        """POST /v2/apps once. An outcome that is unknown (dropped connection, timeout) is settled
        by looking for the app by name (names are unique per account) instead of posting twice."""
        try:
            return (call("create preview %s" % name, self.client.apps.create, {"spec": spec}, **NO_RETRY) or {}) \
                .get("app") or {}
        except DOApiError as exc:
            if not (exc.ambiguous or exc.status is None or exc.status == 409):
                raise
            self.progress("create preview %s: %s; looking for it by name" % (name, exc))
            found = self.find(name)
            if found:
                return found
            raise

    # ---- absent ------------------------------------------------------------------------
    def absent(self):
        name = pv.preview_name(self.p["repo"], self.p["pr"])
        try:
            app = self.find(name)
        except DOApiError as exc:
            self.fail(str(exc), name=name)
        if not app:
            self.module.exit_json(changed=False, name=name, app_id=None, msg="no preview %s" % name)
        if not self.module.check_mode:
            try:
                call("delete preview %s" % name, self.client.apps.delete, app["id"], _app_id=app["id"])
            except DOApiError as exc:
                self.fail(str(exc), name=name, app_id=app["id"])
        self.module.exit_json(changed=True, name=name, app_id=app["id"],
                              msg="%s preview %s (app %s)" % ("would delete" if self.module.check_mode else "deleted",
                                                              name, app["id"]))

    # ---- reaped ------------------------------------------------------------------------
    def reaped(self):
        p = self.p
        try:
            apps = self.list_apps()
        except DOApiError as exc:
            self.fail(str(exc))
        reap, keep, others = pv.reap_decisions(apps, self.now(), p["ttl_hours"], p["closed"], p["open"])
        done, failed = [], []
        for item in reap:
            if not self.module.check_mode:
                try:
                    call("delete preview %s" % item["name"], self.client.apps.delete, item["id"], _app_id=item["id"])
                except DOApiError as exc:
                    if exc.status != 404:  # 404: deleted meanwhile (a destroy job), which is what we wanted
                        failed.append(dict(item, error=str(exc)))
                        continue
            done.append(item)
        result = dict(changed=bool(done), reaped=done, kept=keep, other_apps=others)
        if failed:
            self.fail("could not delete %d preview(s): %s" % (len(failed), "; ".join(f["error"] for f in failed)),
                      **dict(result, failed_previews=failed))
        self.module.exit_json(**result)


def argument_spec():
    return dict(
        state=dict(type="str", choices=["present", "absent", "reaped"], default="present"),
        token=dict(type="str", no_log=True, fallback=(_env_fallback, [TOKEN_ENV])),
        api_endpoint=dict(type="str", default=DEFAULT_ENDPOINT),
        repo=dict(type="str"),
        pr=dict(type="str"),
        spec_path=dict(type="path"),
        pins=dict(type="dict"),
        services=dict(type="list", elements="dict"),
        service=dict(type="str"),
        sha=dict(type="str"),
        digest=dict(type="str"),
        secrets=dict(type="dict", default={}, no_log=True),
        clusters=dict(type="dict", default={}),
        dev_engines=dict(type="list", elements="str", default=["PG"]),
        forbidden_clusters=dict(type="list", elements="str", default=[]),
        ttl_hours=dict(type="float", default=72),
        closed=dict(type="list", elements="str", default=[]),
        open=dict(type="list", elements="str"),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=900),
        poll_interval=dict(type="float", default=1.0),
        **PROGRESS_OPTION,
    )


def main():
    module = redact_module_results(AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[("state", "present", ("repo", "pr", "spec_path", "services", "service", "sha", "digest")), ("state", "absent", ("repo", "pr"))],
        supports_check_mode=True,
    ))
    if not HAS_PYDO:
        module.fail_json(msg=missing_required_lib("pydo"), exception=PYDO_IMPORT_ERROR)
    p = module.params
    if p["timeout"] <= 0 or p["poll_interval"] <= 0 or p["ttl_hours"] < 0:
        module.fail_json(msg="timeout and poll_interval must be positive and ttl_hours not negative")
    if p["state"] != "reaped":
        try:
            pv.check_ref(p["repo"], p["pr"])
        except pv.PreviewError as exc:
            module.fail_json(msg=str(exc))
    try:
        client = make_client(p["token"], p["api_endpoint"])
    except DOApiError as exc:
        module.fail_json(msg=str(exc))
    previews = Previews(module, client)
    getattr(previews, p["state"])()


if __name__ == "__main__":
    main()
