# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""What an app runs now, said in every failure after the platform was touched: the active
deployment (id, phase, the image tag or digest of each component - the commits), whether a
rollback pins it (App Platform deploys nothing else until the rollback is committed or
reverted), and the command that continues.

One reader (``standing``: GET /v2/apps/{id}, its ``active_deployment`` and
``pinned_deployment``, https://docs.digitalocean.com/reference/api/api-reference/#operation/apps_get)
and one sentence (``describe``) for every module that fails after touching the platform.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

IMAGE_KINDS = ("services", "workers", "jobs")


def standing(app):
    """``{deployment_id, phase, pinned, pinned_deployment_id, cloned_from, images}`` of the app
    object App Platform returns (``images``: component -> image tag or digest)."""
    app = app or {}
    active = app.get("active_deployment") or {}
    pinned = (app.get("pinned_deployment") or {}).get("id")
    images = {}
    for kind in IMAGE_KINDS:
        for component in (active.get("spec") or {}).get(kind) or []:
            image = component.get("image") or {}
            ref = image.get("digest") or image.get("tag")
            if component.get("name") and ref:
                images[component["name"]] = ref
    return {"deployment_id": active.get("id"), "phase": active.get("phase"), "pinned": bool(pinned),
            "pinned_deployment_id": pinned, "cloned_from": active.get("cloned_from"), "images": images}


def describe(state, next_command=None):
    """``The app runs deployment X (ACTIVE; api 4a09142..., workers ...), PINNED by a rollback
    (...). Next: <command>``"""
    if not state or not state.get("deployment_id"):
        text = "The app runs no known deployment (App Platform reports no active deployment)"
    else:
        images = ", ".join("%s %s" % (name, ref[:19] if ref.startswith("sha256:") else ref[:12])
                           for name, ref in sorted(state["images"].items()))
        text = "The app runs deployment %s (%s%s)" % (state["deployment_id"], state.get("phase") or "?",
                                                      "; " + images if images else "")
    if state and state.get("pinned"):
        text += (", PINNED by a rollback (deployment %s): App Platform deploys nothing else until the rollback "
                 "is committed or reverted" % state["pinned_deployment_id"])
    elif state:
        text += ", not pinned"
    if next_command:
        text += ". Next: %s" % next_command
    return text + "."


def rollback_command(environment, target):
    """The command that commits (or finishes) a rollback to ``target`` of ``environment``."""
    return ("ansible-playbook playbooks/rollback.yml -i inventories/%s -e tachyon_rollback_to=%s "
            "(it commits a rollback already live, or rolls back again)" % (environment or "<environment>", target))
