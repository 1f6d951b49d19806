# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Following App Platform deployments: wait for a terminal phase, explain failures.

Shared by app_deploy and app_rollback. All calls go through pydo (see do_client).

Phases (godo apps.gen.go DeploymentPhase; OpenAPI apps_deployment_phase.yml): UNKNOWN,
PENDING_BUILD, BUILDING, PENDING_DEPLOY, DEPLOYING, then ACTIVE, ERROR, CANCELED or SUPERSEDED.
Only the four middle phases are "in progress"; UNKNOWN is not (nothing says it will move).

Every wait ends at the run's deadline (``WaitTimeout`` says what it was waiting for); a 429
is waited out as the API asks (Retry-After, else ratelimit-reset) only when that ends before the
deadline, and does not count as a failed poll. No URL query string (presigned log URLs, tokens)
reaches a message, a log line or a result (``redaction``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.tachyon.infra.plugins.module_utils._common import deadline as overall
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import (
    Backoff,
    DOApiError,
    call,
    sleep_until,
)
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import (
    redact_data,
    redact_text,
    redact_url,
)
from ansible_collections.tachyon.infra.plugins.module_utils._spec import diff as spec_diff
# parse_time: an API timestamp as epoch seconds (app_deploy imports it from here)
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import epoch as parse_time

IN_PROGRESS = ("PENDING_BUILD", "BUILDING", "PENDING_DEPLOY", "DEPLOYING")
TERMINAL_OK = ("ACTIVE",)
TERMINAL_BAD = ("ERROR", "CANCELED", "SUPERSEDED")
# consecutive failed polls (after pydo's own bounded retries) before giving up
MAX_POLL_ERRORS = 5
LOG_TAIL_LINES = 30
# an archived log: read within this many seconds, its last LOG_KEEP_BYTES kept (fetch_log)
LOG_SECONDS = 15.0
LOG_KEEP_BYTES = 256 * 1024


class DeploymentFailed(Exception):
    """The deployment ended badly; ``details`` is returned to the user."""

    def __init__(self, message, details):
        super(DeploymentFailed, self).__init__(message)
        self.details = details


class WaitTimeout(TimeoutError):
    """The run's deadline came first. ``args[0]`` / ``deployment``: the last deployment seen;
    ``waiting_for``: what the wait was for when the time ran out (for the message)."""

    def __init__(self, deployment, waiting_for):
        super(WaitTimeout, self).__init__(deployment or {}, waiting_for)
        self.deployment = deployment or {}
        self.waiting_for = waiting_for


def in_progress(deployment):
    """True when ``deployment`` is really under way: an in-progress phase and no error step."""
    return bool(deployment) and deployment.get("phase") in IN_PROGRESS and not error_steps(deployment)


def is_ours(deployment, desired):
    """Whether ``deployment`` (an app's pending or in-progress deployment, or one listed) is ours:
    it has an id and deploys exactly the spec ``desired`` (secrets compared by fingerprint)."""
    return bool(deployment and deployment.get("id")) and not spec_diff.compare(desired, deployment.get("spec") or {})[0]


def describe_deployment(deployment):
    """``deployment d1 (phase BUILDING, cause: manual, created 2026-...)`` for messages."""
    cause = deployment.get("cause") or (deployment.get("cause_details") or {}).get("type") or "not given"
    return "deployment %s (phase %s, cause: %s, created %s)" % (
        deployment.get("id"), deployment.get("phase") or "?", cause, deployment.get("created_at") or "?")


def flatten_steps(steps, parent=""):
    """Every progress step (nested ones too) as dicts with a dotted ``path``."""
    out = []
    for step in steps or []:
        if not isinstance(step, dict):
            continue
        path = "%s.%s" % (parent, step.get("name")) if parent else str(step.get("name"))
        out.append(dict(step, path=path))
        out.extend(flatten_steps(step.get("steps"), path))
    return out


def error_steps(deployment):
    progress = deployment.get("progress") or {}
    return [s for s in flatten_steps(progress.get("steps")) if s.get("status") == "ERROR"]


def describe_step(step):
    comp = step.get("component_name")
    base = step.get("message_base") or step.get("path")
    reason = (step.get("reason") or {}).get("message") or (step.get("reason") or {}).get("code")
    text = "%s %s" % (base, comp) if comp else str(base)
    return "%s (step %s)%s" % (text, step.get("path"), ": %s" % reason if reason else "")


def progress_summary(deployment):
    """Compact, secret-free summary of a deployment's steps."""
    progress = deployment.get("progress") or {}
    steps = []
    for step in flatten_steps(progress.get("steps")):
        start, end = parse_time(step.get("started_at")), parse_time(step.get("ended_at"))
        steps.append(
            {
                "step": step.get("path"),
                "component": step.get("component_name"),
                "status": step.get("status"),
                "seconds": round(end - start, 2) if start and end else None,
            }
        )
    return {
        "phase": deployment.get("phase"),
        "success_steps": progress.get("success_steps"),
        "error_steps": progress.get("error_steps"),
        "total_steps": progress.get("total_steps"),
        "steps": steps,
    }


def _log_type(step):
    text = ("%s %s" % (step.get("path"), step.get("message_base"))).lower()
    return "BUILD" if "build" in text else "DEPLOY"


def fetch_log(url, seconds=LOG_SECONDS, keep=LOG_KEEP_BYTES):
    """The end of an archived log: a deployment's historic log URL (presigned: no token is sent).
    Bounded: the whole request ends within ``seconds`` (_common/deadline: a log trickled a byte at
    a time is cut off) and only its last ``keep`` bytes are kept (a log of any size is read in
    chunks, never whole into memory): the caller wants its last lines."""
    # only a failed deployment's log is read: a module starts faster without ansible's urls
    from ansible.module_utils.urls import open_url

    def read():
        tail = b""
        answer = open_url(url, timeout=seconds)
        while True:
            chunk = answer.read(65536)
            if not chunk:
                return tail
            tail = (tail + chunk)[-keep:]
    return overall.call(read, seconds, "reading the archived log").decode("utf-8", "replace")


def fetch_log_tail(client, app_id, deployment_id, step, fetch_url=None, redact_values=(), lines=LOG_TAIL_LINES):
    """The last ``lines`` lines of the build/deploy log of the failing step's component.

    The logs endpoints answer with ``historic_urls`` (archived logs) or a ``live_url``; we read
    the archived ones (with ``fetch_url``, default ``fetch_log``). Known secret values are masked
    in case a log echoes one.
    """
    fetch_url = fetch_url or fetch_log
    log_type = _log_type(step)
    component = step.get("component_name")
    try:
        if component:
            info = call("get %s logs" % log_type.lower(), client.apps.get_logs, app_id, deployment_id, component, type=log_type)
        else:
            info = call("get %s logs" % log_type.lower(), client.apps.get_logs_aggregate, app_id, deployment_id, type=log_type)
    except DOApiError as exc:
        return log_type, ["(could not fetch %s logs: %s)" % (log_type.lower(), exc)]
    text = []
    # the schema and godo say historic_urls; the OpenAPI example (#/logs) says historic_logs
    for url in (info or {}).get("historic_urls") or (info or {}).get("historic_logs") or []:
        try:
            text.extend(fetch_url(url).splitlines())
        except Exception as exc:  # pylint: disable=broad-except  # logs are best effort
            # the URL is presigned (a read credential in its query string): never print it whole
            text.append("(could not read the archived log %s: %s)" % (redact_url(url), redact_text(exc)))
    if not text and (info or {}).get("live_url"):
        text.append("(live log only, see %s)" % redact_url(info["live_url"]))
    tail = text[-lines:]
    for value in redact_values:
        if value:
            tail = [line.replace(value, "********") for line in tail]
    return log_type, [redact_text(line) for line in tail]


def poll_pause(waited, poll_interval, first=0.25):
    """The pause before the next poll of a deployment that has been waited on for ``waited``
    seconds: a quarter of that (at least ``first``, at most ``poll_interval``). The lag between a
    deployment's end and noticing it stays under a quarter of its duration for a short one and
    under ``poll_interval`` for a long one, for a handful more requests than a doubling backoff
    (a 5-minute deployment at poll_interval 1: about 305 polls instead of 300)."""
    return min(poll_interval, max(min(first, poll_interval), waited / 4.0))


def _until(started, interval, clock):
    """Seconds left of ``interval`` counted from ``started`` (0 when it already passed)."""
    return max(0.0, started + interval - clock())


def wait_for_deployment(client, app_id, deployment_id, deadline, poll_interval, on_progress=None,
                        clock=time.monotonic, sleep=time.sleep):
    """Poll until the deployment is terminal; returns the deployment dict.

    Raises DeploymentFailed for ERROR/CANCELED/SUPERSEDED/error steps, WaitTimeout (a
    TimeoutError) at the deadline, naming what it was waiting for. Transient API errors are
    retried by pydo; beyond that up to MAX_POLL_ERRORS consecutive failed polls are tolerated.
    A 429 is waited out as the API asks when that ends before the deadline (it is not a failed
    poll); when it would end after the deadline the wait stops at once: sleeping could not help.
    """
    backoff = Backoff(first=min(0.25, poll_interval), cap=poll_interval)
    started = clock()
    errors = 0
    seen = {}
    last_phase = None
    deployment = {}

    def waiting():
        return "deployment %s to become ACTIVE (last phase %s)" % (deployment_id, deployment.get("phase") or "not seen yet")

    while True:
        # polls start every backoff interval (not interval + the request's own time), so the
        # lag between a phase change and noticing it is bounded by the interval
        polled_at = clock()
        try:
            resp = call("get deployment %s" % deployment_id, client.apps.get_deployment, app_id, deployment_id, _app_id=app_id)
            deployment = resp.get("deployment") or {}
            errors = 0
        except DOApiError as exc:
            if exc.deadline:
                raise WaitTimeout(deployment, waiting())
            if clock() >= deadline:
                raise WaitTimeout(deployment, "%s; the last poll failed: %s" % (waiting(), exc))
            if not exc.retryable:
                raise
            if exc.status == 429:
                wait = max(exc.retry_after or 0.0, backoff.next())
                left = deadline - clock()
                if wait >= left:
                    raise WaitTimeout(deployment, "%s; polling is held back by %s, which ends after the "
                                      "deadline (%ss left)" % (waiting(), exc.waiting_for or "the API's rate limit",
                                                               round(max(0.0, left), 1)))
                if on_progress:
                    on_progress("rate limited while polling (429), next poll in %.1fs: %s"
                                % (wait, exc.waiting_for or "no wait given"))
                sleep(wait)
                continue
            errors += 1
            if errors >= MAX_POLL_ERRORS:
                raise
            if on_progress:
                on_progress("api error while polling (will retry): %s" % exc)
            if not sleep_until(deadline, _until(polled_at, backoff.next(), clock), clock, sleep):
                raise WaitTimeout(deployment, "%s; the last poll failed: %s" % (waiting(), exc))
            continue
        phase = deployment.get("phase")
        if on_progress:
            if phase != last_phase:
                on_progress("deployment %s: %s" % (deployment_id, phase))
                last_phase = phase
            for step in flatten_steps((deployment.get("progress") or {}).get("steps")):
                key = step.get("path")
                if step.get("status") and seen.get(key) != step.get("status") and step.get("status") != "PENDING":
                    seen[key] = step.get("status")
                    on_progress("  %s%s: %s" % (key, " [%s]" % step["component_name"] if step.get("component_name") else "", step["status"]))
        if phase in TERMINAL_OK:
            return deployment
        bad = error_steps(deployment)
        if phase in TERMINAL_BAD or bad:
            raise DeploymentFailed(phase or "ERROR", deployment)
        if not sleep_until(deadline, _until(polled_at, poll_pause(polled_at - started, poll_interval), clock),
                           clock, sleep):
            raise WaitTimeout(deployment, waiting())


def failure_report(client, app_id, deployment, fetch_url=None, redact_values=()):
    """(message, details) explaining why a deployment failed, with the log tail."""
    dep_id = deployment.get("id")
    phase = deployment.get("phase") or "ERROR"
    steps = error_steps(deployment)
    details = {"deployment_id": dep_id, "phase": phase, "failed_steps": [], "log_tail": [], "log_type": None}
    if phase == "SUPERSEDED":
        msg = ("deployment %s was SUPERSEDED: another deployment of this app started while ours ran "
               "(someone else deployed concurrently); the app runs whatever that deployment brings" % dep_id)
    elif phase == "CANCELED":
        msg = "deployment %s was CANCELED before it became ACTIVE" % dep_id
    else:
        msg = "deployment %s failed (%s)" % (dep_id, phase)
    if steps:
        step = steps[-1]
        details["failed_steps"] = [describe_step(s) for s in steps]
        msg += ": failing step: %s" % describe_step(step)
        log_type, tail = fetch_log_tail(client, app_id, dep_id, step, fetch_url, redact_values)
        details["log_type"] = log_type
        details["log_tail"] = tail
        if tail:
            msg += "\n--- %s log (last %d lines) ---\n%s" % (log_type.lower(), len(tail), "\n".join(tail))
    return redact_text(msg), redact_data(details)
