# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""What a live App Platform deployment runs, read back from the API (not what we sent).

Used by the app_verify module (whole-app verification after ACTIVE, the failed-deploy path's
"did the migration job run") and by the deploy gates (what runs now, staging's proof).

Where the facts come from, in the API's own bodies:

- the images: ``deployment.spec`` (``services``/``workers``/``jobs`` -> ``image`` with
  ``registry_type``, ``registry``, ``repository`` and ``tag`` or ``digest``), as in the real
  ``doctl apps get-deployment -o json`` body tests/recorded/fixtures/deployment_active_image.json
  (digitalocean/app_action ``testdata/temp``@e6b7e6a) and the OpenAPI ``apps_image_source_spec``;
- a PRE_DEPLOY job's run: ``deployment.progress.steps``: the ``deploy`` stage's ``components``
  step has one child per service/worker/job whose ``component_name`` is the component
  (OpenAPI ``apps_deployment_progress_step.yml``: ``component_name``, ``status``, ``steps``);
  a job step's ``status`` is SUCCESS once it ran to completion, ERROR when it failed. The
  deployment's ``jobs`` list names the jobs (OpenAPI ``apps_deployment_job.yml``). DigitalOcean
  publishes no recorded body of a deployment with a job, so the shape is the service/worker one
  of deployment_active_image.json with the job's name, which is what the OpenAPI models.
"""
from __future__ import annotations

from ansible_collections.tachyon.infra.plugins.module_utils._platform import client as do_client
# expected_ref and pin_ref: _plan.gates reads them as live_app.<name> too
from ansible_collections.tachyon.infra.plugins.module_utils._spec.components import (
    IMAGE_KINDS, SINGULAR, expected_ref, image_name, image_ref, pin_ref)
from ansible_collections.tachyon.infra.plugins.module_utils._spec.components import components as spec_components


def components(deployment):
    """{component name: {kind, job_kind, image, ref, tag, digest}} of the deployment's spec."""
    spec = (deployment or {}).get("spec") or {}
    out = {}
    for key, _index, comp in spec_components(spec, IMAGE_KINDS):
        kind = SINGULAR[key]
        image = comp.get("image") if isinstance(comp.get("image"), dict) else None
        out[comp.get("name")] = {
            "kind": kind,
            "job_kind": comp.get("kind") if kind == "job" else None,
            "image": image_name(image) if image else None,
            "ref": image_ref(image) if image else None,
            "tag": (image or {}).get("tag"),
            "digest": (image or {}).get("digest"),
        }
    return out


def deploy_component_steps(deployment):
    """{component name: status} of the ``deploy`` stage's component steps."""
    out = {}
    for stage in ((deployment or {}).get("progress") or {}).get("steps") or []:
        if not isinstance(stage, dict) or stage.get("name") != "deploy":
            continue
        for group in stage.get("steps") or []:
            if not isinstance(group, dict) or group.get("name") != "components":
                continue
            for step in group.get("steps") or []:
                if isinstance(step, dict):
                    out[step.get("component_name") or step.get("name")] = step.get("status")
    return out


def pre_deploy_jobs(deployment):
    """{job name: step status (or None when the progress has no step for it)} of every
    PRE_DEPLOY job of the deployment."""
    steps = deploy_component_steps(deployment)
    return {name: steps.get(name) for name, comp in components(deployment).items()
            if comp["job_kind"] == "PRE_DEPLOY"}


def migration_ran(deployment):
    """True when a PRE_DEPLOY job of the deployment ran: its step finished (SUCCESS) or failed
    while running (ERROR; a failed migration may have applied part of its changes)."""
    return any(status in ("SUCCESS", "ERROR") for status in pre_deploy_jobs(deployment).values())


def compare(services, deployment):
    """Mismatches between the pins ``services`` (name -> {component, tag, sha, digest, image})
    and what ``deployment``'s spec runs: a list of one-line problems naming the service, its
    component and both references (empty: every component runs exactly its pin)."""
    return compare_components(services, components(deployment))


def compare_components(services, live):
    """compare() against ``live``, a components() result."""
    problems = []
    for name in sorted(services):
        pin = services[name]
        comp = pin.get("component") or name
        running = live.get(comp)
        wanted = pin_ref(pin)
        if running is None:
            problems.append("%s (component %s): the live deployment has no such component; pinned %s"
                            % (name, comp, wanted))
            continue
        kind, value = expected_ref(pin)
        same = running.get(kind) == value
        if kind == "tag" and running.get("digest"):
            same = False  # pinned by tag, running a digest: not provably the same image
        if same and pin.get("image") and running.get("image") and pin["image"] != running["image"]:
            same = False
        if not same:
            problems.append("%s (component %s) runs %s, but the release pins %s"
                            % (name, comp, running.get("ref"), wanted))
    return problems


def job_problems(deployment):
    """PRE_DEPLOY jobs whose run did not succeed, one line each."""
    return ["PRE_DEPLOY job %s did not succeed: its deploy step is %s" % (name, status or "missing")
            for name, status in sorted(pre_deploy_jobs(deployment).items()) if status != "SUCCESS"]


def read(client, app_id, deployment_id=None):
    """(app, deployment or None) from the API: the deployment ``deployment_id``, default the
    app's active one."""
    app = (do_client.call("get app", client.apps.get, app_id, _app_id=app_id) or {}).get("app") or {}
    dep_id = deployment_id or (app.get("active_deployment") or {}).get("id")
    if not dep_id:
        return app, None
    body = do_client.call("get deployment %s" % dep_id, client.apps.get_deployment, app_id, dep_id,
                          _app_id=app_id) or {}
    return app, body.get("deployment") or {}
