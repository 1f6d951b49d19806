# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""The pins of a release as the manifest knows them: its current release, or an earlier one from
the history (the SHAs, tags and digests a health-verified deployment of it ran). Used by the
release notes (any two versions) and by the rollback to a version (rollback.yml -e
tachyon_rollback_version), which redeploys them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class PinsError(Exception):
    """The manifest cannot give the pins asked for (a version it does not know)."""


def _pins_of(services):
    return dict((name, dict(svc)) for name, svc in (services or {}).items() if svc and svc.get("sha"))


def recorded_versions(manifest):
    """Versions the manifest can give pins for: its release and every release with a successful,
    health-verified deployment recorded with its SHAs."""
    versions = [manifest["version"]]
    for entry in manifest["history"]:
        if entry["outcome"] == "succeeded" and entry.get("services") and entry.get("version") \
                and entry.get("health_verified_at") and entry["version"] not in versions:
            versions.append(entry["version"])
    return versions


def version_pins(manifest, version, environment=None):
    """The pins of release ``version``: ``(services, source)``.

    The manifest's current release gives its own pins. An earlier release is known only from the
    history: the newest successful, health-verified deployment of it (of ``environment`` first,
    then of any environment), with the SHAs, tags and digests that deployment ran.
    """
    if version == manifest["version"]:
        return _pins_of(manifest["services"]), "release %s (the manifest's current release)" % version
    found = [e for e in manifest["history"] if e.get("version") == version and e["outcome"] == "succeeded"
             and e.get("services") and e.get("health_verified_at")]
    own = [e for e in found if e["environment"] == environment]
    pick = (own or found or [None])[-1]
    if pick is None:
        raise PinsError(
            "release %s is not in the manifest: its current release is %s and its history records "
            "health-verified deployments of %s; name one of those"
            % (version, manifest["version"], ", ".join(recorded_versions(manifest)[1:]) or "no other release"))
    return _pins_of(pick["services"]), "release %s as %s deployment %s ran it (%s)" % (
        version, pick["environment"], pick.get("deployment_id") or "-", pick["at"])


def environment_pins(manifest, environment):
    """What ``environment`` runs now: ``(services, version, source)``; services is None when it
    never deployed (or the record is a legacy one without SHAs)."""
    env = manifest["environments"][environment]
    if not env.get("services"):
        return None, env.get("version"), "%s has no recorded deployment with SHAs" % environment
    return _pins_of(env["services"]), env.get("version"), "what %s runs now (release %s, deployment %s)" % (
        environment, env.get("version"), env.get("deployment_id"))


def rollback_pins(manifest, version, environment, services=None):
    """What a rollback of ``environment`` to release ``version`` redeploys: ``(pins, source,
    running_version)``.

    Only a release this environment itself ran and health-verified (its newest such deployment),
    or, for staging, one production ran: production never goes to pins it did not verify itself
    (a release only staging ran is a promotion, with its own proof, not a rollback). The pins are
    the SHAs, tags, digests and images that deployment recorded, for every service of
    ``services`` (the catalog).
    """
    allowed = (environment,) if environment == "production" else ("staging", "production")
    found = [e for e in manifest["history"] if e.get("version") == version and e["outcome"] == "succeeded"
             and e.get("services") and e.get("health_verified_at") and e["environment"] in allowed]
    own = [e for e in found if e["environment"] == environment]
    pick = (own or found or [None])[-1]
    running = manifest["environments"][environment].get("version")
    if pick is None:
        ran = sorted({e["version"] for e in manifest["history"] if e["environment"] in allowed
                      and e["outcome"] == "succeeded" and e.get("services") and e.get("health_verified_at")
                      and e.get("version")})
        raise PinsError(
            "cannot roll %s back to release %s: the manifest's history records no health-verified %s "
            "deployment of it (with its SHAs)%s; it records %s. Nothing was deployed.%s"
            % (environment, version, " or ".join(allowed), "" if environment == "staging" else
               " (production rolls back only to a release it ran itself)",
               ", ".join(ran) or "none", "" if version != manifest["version"] else
               " Release %s is the manifest's current release: deploy it (playbooks/deploy.yml)." % version))
    pins = _pins_of(pick["services"])
    missing = [name for name in (services or []) if name not in pins]
    if missing:
        raise PinsError("release %s as %s deployment %s ran it recorded no pin for %s; it cannot be "
                        "redeployed as a whole. Nothing was deployed."
                        % (version, pick["environment"], pick.get("deployment_id"), ", ".join(missing)))
    return pins, "release %s as %s deployment %s ran it (%s)" % (
        version, pick["environment"], pick.get("deployment_id") or "-", pick["at"]), running
