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
  - C(tachyon.infra.deploy_repo_urls) maps catalog entries (name, repo) to name -> git URL:
    C(overrides[name]) when given, else C(<base_url>/<repo>.git); the input of
    C(lookup('tachyon.infra.git_ls_remote')).
"""


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


class FilterModule(object):
    def filters(self):
        return {
            "deploy_images": deploy_images,
            "deploy_manifest_services": deploy_manifest_services,
            "deploy_repo_urls": deploy_repo_urls,
        }
