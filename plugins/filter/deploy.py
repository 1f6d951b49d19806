# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Filters the deploy role uses to turn resolved services into module arguments."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: deploy
short_description: Shapes of resolved services for app_spec and release_manifest
description:
  - C(tachyon.infra.deploy_images) maps resolved services (name -> {sha, tag, digest, image,
    component}) to the O(tachyon.infra.app_spec#module:images) argument, component ->
    {digest} when a digest is pinned, else {tag}.
  - C(tachyon.infra.deploy_manifest_services) drops the component name, giving name ->
    {sha, tag, digest, image} for M(tachyon.infra.release_manifest) C(state=recorded).
  - C(tachyon.infra.deploy_repo_urls) maps catalog entries (name, repo) to name -> git URL,
    C(overrides[name]) when given, else C(<base_url>/<repo>.git); the input of
    C(lookup('tachyon.infra.git_ls_remote')).
  - C(tachyon.infra.deployment_environment) gives the environment a release manifest records a
    deployment id under (C(environments.<env>.deployment_id), or a history entry's
    C(deployment_id) / C(rolled_back_to)), or null when it records it nowhere; the deploy role
    uses it to check that the app it is about to update belongs to the run's environment.
  - C(tachyon.infra.recorded_deployments) lists the deployment ids a release manifest records
    for an environment (its current one and every history entry's).
"""

from ansible_collections.tachyon.infra.plugins.module_utils import manifest as mf


def deploy_images(services):
    images = {}
    for name, svc in (services or {}).items():
        component = svc.get("component") or name
        if svc.get("digest"):
            images[component] = {"digest": svc["digest"]}
        else:
            images[component] = {"tag": svc.get("tag") or svc.get("sha")}
    return images


def deploy_manifest_services(services):
    return {
        name: {key: svc.get(key) for key in ("sha", "tag", "digest", "image")}
        for name, svc in (services or {}).items()
    }


def deploy_repo_urls(services, base_url, overrides=None):
    overrides = overrides or {}
    return {
        svc["name"]: overrides.get(svc["name"]) or "%s/%s.git" % (base_url, svc["repo"])
        for svc in services or []
    }


def deployment_environment(manifest, deployment_id):
    if not deployment_id:
        return None
    return mf.environment_of_deployment(manifest, deployment_id)


def recorded_deployments(manifest, environment):
    ids = [manifest["environments"][environment].get("deployment_id")]
    ids += [e.get(key) for e in manifest["history"] if e["environment"] == environment
            for key in ("deployment_id", "rolled_back_to")]
    return sorted({i for i in ids if i})


class FilterModule(object):
    def filters(self):
        return {
            "deploy_images": deploy_images,
            "deploy_manifest_services": deploy_manifest_services,
            "deploy_repo_urls": deploy_repo_urls,
            "deployment_environment": deployment_environment,
            "recorded_deployments": recorded_deployments,
        }
