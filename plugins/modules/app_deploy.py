#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: app_deploy
short_description: Deploy a rendered App Spec to a DigitalOcean App Platform app and wait for it
version_added: "0.1.0"
description:
  - Reads the live app, compares its spec with the rendered one (SECRET values compared
    redacted) and, when they differ, updates the app with C(PUT /v2/apps/{id}) and
    C(update_all_source_versions=true), then follows C(pending_deployment.id) until the
    deployment is C(ACTIVE).
  - A deployment that ends C(ERROR), C(CANCELED) or C(SUPERSEDED), or reports error steps,
    fails the task naming the failing step and component and printing the tail of its
    build or deploy log.
  - Reads are retried by pydo on 429, 5xx and dropped connections with bounded exponential
    backoff. A 429 is waited out as the API asks - C(retry-after) (the burst limit), else until
    C(ratelimit-reset) (the hourly limit, sent without C(retry-after)) - for as long as
    O(timeout) allows. The update itself is never blindly retried; when its outcome is unknown
    the module looks for a deployment carrying our spec before trying again, so one run never
    creates two deployments.
  - Every wait (polls, retries, rate-limit waits) ends at O(timeout), counted from the start of
    the task; the failure message says what it was waiting for. A wait the API asks for that
    would end after the deadline is not started.
  - A deployment of the app counts as one of ours already running (and is followed instead of
    sending a new update) only if its phase is in progress (C(PENDING_BUILD), C(BUILDING),
    C(PENDING_DEPLOY), C(DEPLOYING)), it has no error step and its spec is the rendered one. The
    app's C(pending_deployment) is the most recent deployment that was not canceled, so after a
    failure it is the failed one, and a rerun updates the app again.
  - No URL query string, signature or token (presigned log URLs, log stream tokens) appears in
    any message, progress line or return value (URLs are cut to C(scheme://host/path)).
  - Secret values are injected into the spec in memory only; they never appear in the diff,
    the result or on disk. A keyed fingerprint of the secret values (env
    C(TACHYON_SECRETS_FINGERPRINT)) lets a rotated secret count as a change without reading
    the live ciphertext.
  - When the rendered spec equals the live one (and no deployment of it is running), nothing is
    deployed and the task reports C(changed=false).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - tachyon.infra.attributes
  - tachyon.infra.progress
  - tachyon.infra.app_platform
  - tachyon.infra.verify
options:
  spec:
    description:
      - The rendered App Spec (as returned by M(tachyon.infra.app_spec) with C(state=rendered)),
        SECRET values blank.
    type: dict
    required: true
  secrets:
    description:
      - SECRET env values by key, injected in memory into every SECRET env of that key.
      - Every SECRET env without a value in O(spec) must get one here; the task fails naming
        the missing keys (never a value). Keys no SECRET env uses are ignored with a warning.
    type: dict
    default: {}
  secrets_env_prefix:
    description:
      - When set, a SECRET key missing from O(secrets) is read from the environment variable
        C(<prefix><KEY>) of the process running the module (the controller, for these
        API modules), e.g. C(TACHYON_SECRET_DATABASE_URL). The values never pass through
        Ansible variables.
    type: str
  secrets_fingerprint:
    description:
      - Add the app-level env C(TACHYON_SECRETS_FINGERPRINT), an HMAC-SHA256 of the secret
        values keyed with the token, so that a changed secret value is detected as a change.
      - With V(false), secrets only count as changed when an env appears, disappears or changes
        type.
    type: bool
    default: true
  wait:
    description: Wait for the deployment to become ACTIVE. With V(false), return once it started.
    type: bool
    default: true
  timeout:
    description:
      - Seconds the whole task may take (reading the app, the update with its retries, waiting
        for the deployment). At the deadline the deployment is canceled (see
        O(cancel_on_timeout); one request of at most 10 s, without retries) and the task fails.
    type: int
    default: 900
  poll_interval:
    description:
      - Longest pause between polls; the pause is a quarter of the time waited so far (at least 0.25 s, at most this).
      - At the default a failed or finished deployment is noticed within about a second
        (measured by C(make bench)), for about 60 API calls a minute while a deployment runs,
        well inside App Platform's rate limits (429s are retried after C(retry-after)).
    type: float
    default: 1
  cancel_on_timeout:
    description: Cancel our deployment when O(timeout) expires, so the app stays on its last good deployment.
    type: bool
    default: true
  in_flight_wait:
    description:
      - App Platform's own in-flight guard. A deployment of another spec in progress on the app
        (started from the control panel, doctl, or another hub run) would be superseded by our
        update. With V(0) the task fails naming it (id, phase, cause) and deploys nothing; with
        more, it waits up to that many seconds (within O(timeout)) for it to finish, printing a
        progress line, then deploys.
      - A deployment of our own spec still running (a rerun) is followed, not refused.
    type: float
    default: 0
  plan:
    description:
      - Display only - lines printed before the deploy starts (the C(table) of
        M(tachyon.infra.deploy_plan)); the action plugin prints them and does not pass them on.
    type: list
    elements: str
  lock:
    description:
      - Controller only - the deploy lock this deploy holds. Once the deployment went live, the
        action plugin checks the lock is still ours, warns when it was taken over or removed and
        returns that as RV(lock_taken_over). Not passed on to the module.
      - Its keys are M(tachyon.infra.deploy_lock)'s store options
        O(tachyon.infra.deploy_lock#module:remote), O(tachyon.infra.deploy_lock#module:repo_dir),
        O(tachyon.infra.deploy_lock#module:environment), O(tachyon.infra.deploy_lock#module:path) and
        O(tachyon.infra.deploy_lock#module:stale_after) (validated by the same argument spec), and
        C(lock_id), the RV(tachyon.infra.deploy_lock#module:lock_id) it returned when it took the lock.
        Any other key fails the task before anything is deployed.
    type: dict
  record:
    description:
      - Controller only - once the deployment is verified (and O(lock) checked), the action plugin
        records it in the release manifest with M(tachyon.infra.release_manifest)'s own code (its
        O(tachyon.infra.release_manifest#module:state=recorded), outcome C(succeeded), this
        deployment's id, verified now, a note with the health figures and any lock takeover) and
        returns RV(recorded). A record that cannot be written fails the task with RV(went_live)
        true, like a failed verification. Not passed on to the module.
      - Its keys are M(tachyon.infra.release_manifest)'s options C(path), C(environment),
        C(version), C(services), C(deployed_by), C(approved_by), C(rollback_of_version) and
        C(lock_timeout) (validated by that module's argument spec), and C(break_glass) and
        C(override), texts added to the record's note. Any other key fails the task.
    type: dict
  live_app:
    description:
      - The app as it was just read (the C(target.app) of M(tachyon.infra.deploy_plan) - its spec,
        live URL, active, pending and in-progress deployments), so a deploy reads the app once.
        Without it the module reads the app itself.
    type: dict
  verify:
    description:
      - Verify the deployment before the task ends (apply and verify in one call) - the live
        app's health endpoint healthy with O(verify.expected_version) on
        O(verify.consecutive) polls in a row, every component running its pinned image and the
        migration job succeeded (read back from the API, see M(tachyon.infra.app_verify)), and
        the smoke checks (see M(tachyon.infra.smoke_check)). A failure fails the task with
        C(went_live) saying whether the deployment replaced the last good one.
      - Not run in check mode.
    type: dict
attributes:
  check_mode:
    support: full
    details: Reads the live app and reports the diff; deploys nothing.
  diff_mode:
    support: full
    details: Before/after App Spec as YAML, SECRET values shown as C(REDACTED).
notes:
  - Compare is against the spec of the ACTIVE deployment (falling back to the app's spec), so a
    spec whose deployment failed is deployed again on the next run.
  - An action plugin of the same name prints progress lines on the controller while waiting.
seealso:
  - module: tachyon.infra.app_rollback
  - module: tachyon.infra.app_spec
"""

EXAMPLES = r"""
- name: Deploy the rendered staging spec
  tachyon.infra.app_deploy:
    app_id: "{{ tachyon_do_app_id }}"
    spec: "{{ rendered.spec }}"
    secrets: "{{ tachyon_secrets }}"
    timeout: 900
  no_log: false   # secrets are no_log options; the result carries none
  register: deploy

- name: Show what would change (check mode)
  tachyon.infra.app_deploy:
    app_id: "{{ tachyon_do_app_id }}"
    spec: "{{ rendered.spec }}"
    secrets: "{{ tachyon_secrets }}"
  check_mode: true
  diff: true
"""

RETURN = r"""
recorded:
  description: With O(record) - the manifest record (C(changed), C(manifest_path), C(history_entry)).
  returned: when recorded
  type: dict
lock_taken_over:
  description: With O(lock) - what happened to our deploy lock during the deploy (taken over, naming the holder, or removed).
  returned: when the lock is no longer ours
  type: str
went_live:
  description: Whether our deployment became the app's active one (a failed verification then calls for a rollback).
  returned: always
  type: bool
health:
  description:
    - With O(verify) - the health check (status, attempts, elapsed, first_healthy_after, last_state, payload).
    - With O(verify.platform_health) also C(platform) (component -> C({state, cpu, memory, replicas}) as App
      Platform reports them) and C(timeline) (the app's events in the deploy window, oldest first -
      C({at, type, deployment_id, what, ours}), C(ours) false for anything this deploy did not do).
  returned: when verified
  type: dict
verified:
  description: With O(verify) - what the app runs, read back (components, pre_deploy_jobs, migration_ran, problems).
  returned: when verified
  type: dict
smoke:
  description: With O(verify) and smoke checks - each check's result.
  returned: when verified
  type: list
  elements: dict
deployment_id:
  description: Our deployment (or, unchanged, the active one).
  returned: success
  type: str
phase:
  description: Last phase seen (ACTIVE on success).
  returned: always
  type: str
previous_deployment_id:
  description: The deployment that was ACTIVE before ours, the rollback target.
  returned: always
  type: str
live_url:
  description: The app's live URL.
  returned: success
  type: str
elapsed:
  description: Seconds from the update request to the deployment seen ACTIVE.
  returned: success
  type: float
notice_latency:
  description: Seconds between the API's phase change to ACTIVE and this module noticing it.
  returned: when a deployment was awaited and the API reports the phase time
  type: float
progress:
  description: Step summary (names, components, statuses, durations); no values.
  returned: when a deployment ran
  type: dict
changed_paths:
  description: Paths of the spec that differ from the live app.
  returned: always
  type: list
  elements: str
failure:
  description: On failure, the failing steps and the log tail.
  returned: failure
  type: dict
in_flight:
  description: The deployment of another spec in progress that made the task refuse (id, phase, cause).
  returned: when refused by the in-flight guard
  type: str
in_flight_deployment_id:
  description: Its id.
  returned: when refused by the in-flight guard
  type: str
waiting_for:
  description: What the task was waiting for when its timeout ran out.
  returned: on timeout
  type: str
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tachyon.infra.plugins.module_utils._spec import diff as spec_diff
from ansible_collections.tachyon.infra.plugins.module_utils._platform.deployments import (
    DeploymentFailed,
    failure_report,
    describe_deployment,
    in_progress,
    is_ours,
    parse_time,
    progress_summary,
    wait_for_deployment,
)
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import (
    NO_RETRY,
    Backoff,
    DOApiError,
    call,
    check_module,
    cleanup_window,
    client_argument_spec,
    make_client,
    set_deadline,
)
from ansible_collections.tachyon.infra.plugins.module_utils._common.progress import PROGRESS_OPTION, ProgressLog
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_module_results
from ansible_collections.tachyon.infra.plugins.module_utils._platform import signals
from ansible_collections.tachyon.infra.plugins.module_utils._platform import smoke
from ansible_collections.tachyon.infra.plugins.module_utils._platform import verify as verification

MAX_UPDATE_ATTEMPTS = 5


class Deployer:
    def __init__(self, module, client=None, clock=time.monotonic, sleep=time.sleep):
        self.module = module
        self.p = module.params
        self.client = client
        self.clock = clock
        self.sleep = sleep
        self.progress = ProgressLog(self.p.get("progress_file"))
        self.lines = self.progress.lines
        # the deploy window's start (App Platform's events from here on are this deploy's timeline)
        self.started_at = time.time()

    # ---- helpers -------------------------------------------------------------------------

    def get_app(self):
        return call("get app", self.client.apps.get, self.p["app_id"], _app_id=self.p["app_id"]).get("app") or {}

    def with_phase(self, dep):
        """``dep`` with its phase and progress: GET app's pending_deployment carries only id and
        spec (OpenAPI #/app example), so its phase is read from the deployment itself."""
        if dep.get("phase"):
            return dep
        try:
            resp = call("get deployment %s" % dep["id"], self.client.apps.get_deployment, self.p["app_id"], dep["id"],
                        _app_id=self.p["app_id"])
        except DOApiError as exc:
            self.progress("could not read deployment %s (%s): not counted as running" % (dep["id"], exc))
            return dep
        found = dict((resp or {}).get("deployment") or {})
        found.update(dep)
        return found

    def foreign_in_flight(self, app, desired):
        """A deployment of another spec really in progress on the app, or None. The app's
        pending_deployment is its newest deployment (godo PR #601): when that is the active one,
        it is not in progress and is not read again."""
        active_id = (app.get("active_deployment") or {}).get("id")
        for dep in (app.get("in_progress_deployment"), app.get("pending_deployment")):
            if dep and dep.get("id") and dep["id"] != active_id and not is_ours(dep, desired):
                dep = self.with_phase(dep)
                if in_progress(dep):
                    return dep
        return None

    def wait_for_foreign(self, foreign, desired, deadline):
        """Refuse (in_flight_wait 0) or wait for ``foreign`` to finish; returns the app after."""
        wait = self.p["in_flight_wait"] or 0
        refusal = ("%s of app %s is in progress and is not ours (another spec: the control panel, doctl or "
                   "another run started it); updating now would supersede it. Nothing was deployed; wait for it "
                   "to finish, or let the run wait for it: tachyon_lock_wait=<seconds> (in_flight_wait)."
                   % (describe_deployment(foreign), self.p["app_id"]))
        if wait <= 0:
            self.module.fail_json(msg=refusal, changed=False, in_flight=describe_deployment(foreign),
                                  in_flight_deployment_id=foreign.get("id"))
        until = min(deadline, self.clock() + wait)
        started = self.clock()
        while True:
            left = until - self.clock()
            if left <= 0:
                self.module.fail_json(
                    msg="waited %.0fs (in_flight_wait) and %s" % (self.clock() - started, refusal[0].lower() + refusal[1:]),
                    changed=False, in_flight=describe_deployment(foreign), in_flight_deployment_id=foreign.get("id"))
            self.progress("waiting for %s, not ours, to finish (%.0fs waited)" % (describe_deployment(foreign),
                                                                                  self.clock() - started))
            self.sleep(min(left, self.p["poll_interval"]))
            app = self.get_app()
            foreign = self.foreign_in_flight(app, desired)
            if foreign is None:
                return app

    def known_deployment_ids(self):
        resp = call("list deployments", self.client.apps.list_deployments, self.p["app_id"], per_page=20, _app_id=self.p["app_id"])
        return {d.get("id") for d in (resp or {}).get("deployments") or []}

    def find_ours(self, desired, known):
        """A deployment not seen before our update whose spec is ours (the update took effect)."""
        app = self.get_app()
        candidates = [app.get("pending_deployment"), app.get("in_progress_deployment")]
        resp = call("list deployments", self.client.apps.list_deployments, self.p["app_id"], per_page=20, _app_id=self.p["app_id"])
        candidates.extend((resp or {}).get("deployments") or [])
        for dep in candidates:
            if is_ours(dep, desired) and dep["id"] not in known:
                return dep
        return None

    # ---- verify ---------------------------------------------------------------------------
    def finish(self, result, went_live):
        """Exit with ``result`` after the verification (option verify): the live app healthy
        with the expected version, every component running its pinned image (read back from
        the API), the smoke checks passing. A failure fails the task with ``went_live`` saying
        whether our deployment replaced the last good one (then the caller rolls back)."""
        verify = self.p["verify"]
        result["went_live"] = went_live
        if not verify or self.module.check_mode or not result.get("deployment_id"):
            self.module.exit_json(**result)
        base = (result.get("live_url") or "").rstrip("/")
        if not base:
            self.module.fail_json(msg="verify: the app has no live URL to check", **result)
        failed, checked, result["health"] = verification.live_health(base, verify, self.progress)
        if failed:
            self.module.fail_json(msg="the live app did not become healthy: %s%s" % (
                checked["msg"], signals.events_note(self.client, self.p["app_id"], self.started_at,
                                                    [result["deployment_id"]])), **result)
        # App Platform's own view: each component's state, CPU and memory, and its events
        found, problem = verification.platform_health(self.client, self.p["app_id"], result["deployment_id"],
                                                      self.started_at, verify, self.progress)
        if found is not None:
            result["health"].update(found)
        if problem:
            self.module.fail_json(msg=problem + (" It is treated like a failed health check." if went_live else ""),
                                  **result)
        verified, problem = verification.pinned_images(self.client, self.p["app_id"], result["deployment_id"],
                                                       verify["services"])
        if verified is not None:
            result["verified"] = verified
        if problem:
            self.module.fail_json(msg=problem + ("; it is treated like a failed health check." if verified else ""),
                                  **result)
        if verify["smoke_checks"]:
            result["smoke"], problem = verification.smoke_checks(base, smoke.validate(verify["smoke_checks"]))
            if problem:
                self.module.fail_json(msg=problem, **result)
        self.progress("verified: healthy after %ss, every component runs its pinned image%s" % (
            checked.get("elapsed"), ", %d smoke checks pass" % len(verify["smoke_checks"]) if verify["smoke_checks"] else ""))
        self.module.exit_json(**result)

    # ---- steps ---------------------------------------------------------------------------
    def update(self, desired_with_secrets, desired, known, deadline):
        """PUT the spec once; on an ambiguous failure find our deployment before retrying.

        Other retryable failures are retried up to MAX_UPDATE_ATTEMPTS times; a 429 (the request
        was refused, nothing was created) is retried as long as the API's wait ends before the
        deadline, however often it comes.
        """
        body = {"spec": desired_with_secrets, "update_all_source_versions": True}
        backoff = Backoff(first=0.5, cap=8.0)
        # a 429 that says how long to wait is waited out exactly; one that does not (or says 0)
        # backs off from 0.25 s up to 4 s
        limited = Backoff(first=0.25, cap=4.0)
        attempt = 0
        failures = 0
        while True:
            attempt += 1
            try:
                resp = call("update app", self.client.apps.update, self.p["app_id"], body, _app_id=self.p["app_id"], **NO_RETRY)
                dep = ((resp or {}).get("app") or {}).get("pending_deployment") or {}
                if dep.get("id"):
                    return dep["id"], attempt
                dep = self.find_ours(desired, known)
                if dep:
                    return dep["id"], attempt
                raise DOApiError("update app: the API accepted the spec but reported no pending deployment", retryable=False)
            except DOApiError as exc:
                if exc.deadline or not exc.retryable:
                    raise
                if exc.status == 429:
                    wait = exc.retry_after or limited.next()
                    left = deadline - self.clock()
                    if wait >= left:
                        raise DOApiError(
                            "%s The wait it asks for (%.0fs) ends after this task's timeout (%ss, %.1fs left); "
                            "rerun when the limit resets or raise timeout."
                            % (exc, wait, self.p["timeout"], max(0.0, left)),
                            status=429, deadline=True)
                    self.progress("update app: rate limited (429), retrying in %.1fs (%s)" % (wait, exc.waiting_for))
                    self.sleep(wait)
                    continue
                failures += 1
                if failures >= MAX_UPDATE_ATTEMPTS:
                    raise
                wait = backoff.next()
                self.progress("update app: %s; checking whether it took effect" % exc)
                if exc.ambiguous or exc.status is None:
                    dep = self.find_ours(desired, known)
                    if dep:
                        self.progress("update app: found our deployment %s, following it" % dep["id"])
                        return dep["id"], attempt
                if wait >= deadline - self.clock():
                    raise DOApiError("%s The next attempt would start after this task's timeout (%ss)."
                                     % (exc, self.p["timeout"]), status=exc.status, deadline=True)
                self.sleep(wait)

    def run(self):
        p = self.p
        start = self.clock()
        deadline = start + p["timeout"]
        set_deadline(self.client, deadline)
        secrets = {k: "" if v is None else str(v) for k, v in (p["secrets"] or {}).items()}
        spec = p["spec"]
        if p["secrets_env_prefix"]:
            for _comp, key, _has in spec_diff.secret_envs(spec):
                value = os.environ.get(p["secrets_env_prefix"] + str(key))
                if value and not secrets.get(key):
                    secrets[key] = value
        if secrets:
            # values read here were not module options: make Ansible mask them in any output too
            self.module.no_log_values.update(v for v in secrets.values() if v)
        missing = spec_diff.missing_secrets(spec, secrets)
        if missing:
            self.module.fail_json(
                msg="missing secret value(s) for SECRET env(s) %s; provide them in tachyon_secrets "
                "(vault or an environment lookup in the inventory). Nothing was deployed."
                % ", ".join("%s (%s)" % (k, ", ".join(v)) for k, v in sorted(missing.items())),
                missing_secrets=sorted(missing),
                changed=False,
            )
        unused = spec_diff.unused_secrets(spec, secrets)
        if unused:
            self.module.warn("secrets not used by any SECRET env of the spec (ignored): %s" % ", ".join(unused))

        with_secrets = spec_diff.inject_secrets(spec, secrets)
        if p["secrets_fingerprint"]:
            spec_diff.set_fingerprint(with_secrets, spec_diff.fingerprint(with_secrets, p["token"]))
        desired = spec_diff.redact(with_secrets)

        # the app as the deploy plan read it (tachyon.infra.deploy_plan: one read per deploy), else read now
        app = p["live_app"]
        if not app:
            try:
                app = self.get_app()
            except DOApiError as exc:
                self.module.fail_json(msg=str(exc), changed=False)
        active = app.get("active_deployment") or {}
        previous_id = active.get("id")
        live_spec = active.get("spec") or app.get("spec") or {}
        changed, before, after = spec_diff.compare(desired, live_spec)
        paths = spec_diff.changed_paths(before, after)
        result = dict(
            changed=changed,
            previous_deployment_id=previous_id,
            deployment_id=previous_id,
            phase=active.get("phase"),
            live_url=app.get("live_url"),
            changed_paths=paths,
        )
        if self.module._diff:
            result["diff"] = dict(
                before=spec_diff.to_text(before),
                after=spec_diff.to_text(after),
                before_header="live app %s (deployment %s)" % (p["app_id"], previous_id),
                after_header="rendered spec",
            )
        # a deployment of our spec already running (e.g. a rerun after an interrupted run)? The
        # app's pending_deployment is its most recent non-canceled deployment (godo PR #601):
        # after a failure, the failed one. Only one really in progress counts.
        running = None
        for dep in (app.get("pending_deployment"), app.get("in_progress_deployment")):
            if is_ours(dep, desired):
                dep = self.with_phase(dep)
                if in_progress(dep):
                    running = dep
        if not changed or self.module.check_mode:
            if self.module.check_mode and changed:
                result["msg"] = "would deploy: %s" % ", ".join(paths[:10])
            self.finish(result, went_live=False)

        if not running:
            foreign = self.foreign_in_flight(app, desired)
            if foreign:
                app = self.wait_for_foreign(foreign, desired, deadline)
                active = app.get("active_deployment") or {}
                previous_id = active.get("id")
                changed, before, after = spec_diff.compare(desired, active.get("spec") or app.get("spec") or {})
                result.update(changed=changed, previous_deployment_id=previous_id, deployment_id=previous_id,
                              phase=active.get("phase"), changed_paths=spec_diff.changed_paths(before, after))
                if not changed:
                    result["msg"] = "the deployment we waited for made our spec live"
                    self.finish(result, went_live=False)

        try:
            if running:
                dep_id = running["id"]
                self.progress("following deployment %s already running with this spec" % dep_id)
                attempts = 0
            else:
                known = self.known_deployment_ids()
                dep_id, attempts = self.update(with_secrets, desired, known, deadline)
                self.progress("  update accepted: deployment %s" % dep_id)
        except DOApiError as exc:
            result.update(changed=False, deployment_id=None, phase=None)
            self.module.fail_json(msg="%s Nothing was deployed; the app stays on %s." % (exc, previous_id), **result)
        result.update(deployment_id=dep_id, phase="PENDING_BUILD", update_attempts=attempts)
        if not p["wait"]:
            result["progress_lines"] = self.lines
            self.module.exit_json(**result)
        try:
            deployment = wait_for_deployment(
                self.client, p["app_id"], dep_id, deadline, p["poll_interval"], self.progress, self.clock, self.sleep
            )
        except DeploymentFailed as exc:
            msg, details = failure_report(self.client, p["app_id"], exc.details, redact_values=secrets.values())
            result.update(phase=exc.details.get("phase"), progress=progress_summary(exc.details), failure=details,
                          progress_lines=self.lines)
            self.module.fail_json(msg="%s\nThe app's last good deployment is %s.%s" % (
                msg, previous_id, signals.events_note(self.client, p["app_id"], self.started_at, [dep_id])), **result)
        except TimeoutError as exc:
            deployment = exc.args[0] if exc.args else {}
            waiting_for = getattr(exc, "waiting_for", None) or "deployment %s to become ACTIVE" % dep_id
            phase = (deployment or {}).get("phase")
            note = ""
            if p["cancel_on_timeout"]:
                try:
                    with cleanup_window(self.client):
                        call("cancel deployment", self.client.apps.cancel_deployment, p["app_id"], dep_id, **NO_RETRY)
                    note = " It was canceled; the app stays on %s." % previous_id
                    phase = "CANCELED"
                except DOApiError as cexc:
                    note = " Canceling it failed too (%s): cancel it by hand." % cexc
            result.update(phase=phase, progress=progress_summary(deployment or {}), progress_lines=self.lines,
                          waiting_for=waiting_for)
            self.module.fail_json(
                msg="deployment %s did not become ACTIVE within %ss (last phase %s; timed out waiting for %s).%s "
                "Raise timeout if builds are slow." % (dep_id, p["timeout"], (deployment or {}).get("phase"),
                                                       waiting_for, note),
                **result
            )
        except DOApiError as exc:
            result.update(progress_lines=self.lines)
            self.module.fail_json(msg="lost track of deployment %s: %s" % (dep_id, exc), **result)

        noticed = time.time()
        active_at = parse_time(deployment.get("phase_last_updated_at"))
        if not result.get("live_url"):
            # an app's first deployment gives it its live URL: read it now (else it is known)
            try:
                app = self.get_app()
            except DOApiError:
                pass
        result.update(
            phase=deployment.get("phase"),
            live_url=app.get("live_url") or result.get("live_url"),
            elapsed=round(self.clock() - start, 2),
            progress=progress_summary(deployment),
            progress_lines=self.lines,
        )
        if active_at:
            result["notice_latency"] = round(max(0.0, noticed - active_at), 3)
        self.finish(result, went_live=True)


def main():
    argument_spec = client_argument_spec()
    argument_spec.update(
        spec=dict(type="dict", required=True),
        secrets=dict(type="dict", default={}, no_log=True),
        secrets_env_prefix=dict(type="str", no_log=False),  # a variable name prefix, not a secret
        secrets_fingerprint=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=900),
        poll_interval=dict(type="float", default=1.0),
        cancel_on_timeout=dict(type="bool", default=True),
        in_flight_wait=dict(type="float", default=0),
        **PROGRESS_OPTION,
        live_app=dict(type="dict"),
        plan=dict(type="list", elements="str"),
        lock=dict(type="dict"),  # validated by the action plugin (_git.lock.STORE_OPTIONS and lock_id)
        record=dict(type="dict"),
        verify=dict(type="dict", options=verification.VERIFY_OPTIONS),
    )
    module = redact_module_results(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True))
    check_module(module)
    try:
        client = make_client(module.params["token"], module.params["api_endpoint"])
    except DOApiError as exc:
        module.fail_json(msg=str(exc))
    Deployer(module, client).run()


if __name__ == "__main__":
    main()
