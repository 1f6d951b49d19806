# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Filters the deploy role uses to turn resolved services into module arguments.

Each filter is documented in plugins/filter/<name>.yml (ansible-doc -t filter tachyon.infra.<name>).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._spec.components import pin_image


def deploy_images(services):
    images = {}
    for name, svc in (services or {}).items():
        images[svc.get("component") or name] = pin_image(svc) or {"tag": None}
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
