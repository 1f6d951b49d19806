# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""What verifies an app once a deployment of ours is ACTIVE (app_deploy, app_restart): the
option ``verify`` (argument spec ``VERIFY_OPTIONS`` here, documented once by doc fragment
``tachyon.infra.verify``) and its checks - the live URL's health, App Platform's own component
health with the events of the window, the whole app read back against the pins, the smoke checks.

Each check returns what it found and the failure message (None when it passed); the module says
what the failure means for it (a deploy: roll back; a restart: the images were kept) and fails.
Not here: the health probe itself (``health``), the platform's signals (``signals``), the
read-back (``live_app``), the smoke requests (``smoke``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_url
from ansible_collections.tachyon.infra.plugins.module_utils._platform import health
from ansible_collections.tachyon.infra.plugins.module_utils._platform import live_app
from ansible_collections.tachyon.infra.plugins.module_utils._platform import signals
from ansible_collections.tachyon.infra.plugins.module_utils._platform import smoke
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import DOApiError

# the suboptions of ``verify`` (doc fragment tachyon.infra.verify)
VERIFY_OPTIONS = dict(
    health_path=dict(type="str", default="/health"),
    expected_version=dict(type="str"),
    checks=dict(type="list", elements="str", default=["postgres", "redis"]),
    consecutive=dict(type="int", default=2),
    health_timeout=dict(type="float", default=300.0),
    max_interval=dict(type="float", default=0.5),
    services=dict(type="dict"),
    smoke_checks=dict(type="list", elements="raw", default=[]),
    platform_health=dict(type="bool", default=True),
    platform_health_timeout=dict(type="float", default=30.0),
)

HEALTH_KEYS = ("status", "attempts", "elapsed", "first_healthy_after", "last_state", "payload")


def live_health(base, verify, progress):
    """Poll ``base`` + ``verify["health_path"]`` until healthy as ``verify`` asks (checks connected,
    the expected version, on ``consecutive`` polls in a row, within ``health_timeout``):
    ``(failed, checked, found)`` - ``checked`` as ``health.check`` returns it (``msg`` says why it
    failed), ``found`` its figures for the result's ``health``."""
    hp = dict((key, spec.get("default")) for key, spec in health.ARGUMENT_SPEC.items())
    hp.update(url=base + verify["health_path"], expected_version=verify.get("expected_version"),
              checks=verify["checks"], consecutive=verify["consecutive"], timeout=verify["health_timeout"],
              max_interval=verify["max_interval"])
    progress("  health: waiting for %s" % health.expectation(hp))
    failed, checked = health.check(hp)
    if not failed:
        progress("  healthy after %ss (%s polls)" % (checked.get("elapsed"), checked.get("attempts")))
    return failed, checked, dict((k, checked.get(k)) for k in HEALTH_KEYS if k in checked)


def platform_health(client, app_id, deployment_id, since, verify, progress, names=None):
    """App Platform's own health of the components (``names``, default all) and the app's events
    since ``since`` (epoch seconds): ``(found, message)`` - ``found`` ``{platform, timeline}`` for
    the result's ``health`` (None when ``verify["platform_health"]`` is off)."""
    if not verify.get("platform_health", True):
        return None, None
    found, problem = signals.verify(client, app_id, deployment_id, since, verify["platform_health_timeout"],
                                    progress, names=names)
    return {"platform": found.get("components") or {}, "timeline": found.get("timeline") or []}, problem


def pinned_images(client, app_id, deployment_id, services):
    """The whole app read back (``GET`` the app and ``deployment_id``): deployment_id active and,
    with ``services``, every component running its pin and the migration job done: ``(verified,
    message)``."""
    try:
        app, deployment = live_app.read(client, app_id, deployment_id)
    except DOApiError as exc:
        return None, "whole-app verification could not read deployment %s: %s" % (deployment_id, exc)
    verified = live_app.verify(app, deployment, services, deployment_id, True)
    if verified["problems"]:
        return verified, ("whole-app verification of deployment %s failed: %s. The deployment is ACTIVE but the "
                          "app does not run the release as pinned" % (verified["deployment_id"],
                                                                      "; ".join(verified["problems"])))
    return verified, None


def smoke_checks(base, checks):
    """Run the smoke checks (validated with ``smoke.validate``) against ``base``: ``(results, message)``."""
    results, failures = smoke.run_checks(base, checks)
    if not failures:
        return results, None
    return results, "smoke check(s) failed against %s: %s (%d of %d passed)" % (
        redact_url(base), "; ".join("%s (%s %s): %s" % (r["name"], r["method"], r["path"], r["problem"])
                                    for r in failures), len(results) - len(failures), len(results))
