# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""The components of an App Spec and their images, the one place that knows them.

- the kinds: ``services``, ``workers``, ``jobs`` run an image (``IMAGE_KINDS``); ``static_sites``
  and ``functions`` build from git; every kind is a list of named components
  (godo ``AppSpec``: Services, Workers, Jobs, StaticSites, Functions);
- how a component is found in a spec (``components``, ``by_name``, ``image_components``);
- an image source as a reference (``image_name``, ``image_ref``) and a release pin (sha, tag,
  digest) as the image a component must run (``pin_image``, ``expected_ref``, ``pin_ref``): by
  digest when the pin has one, else by its tag (the commit SHA when no tag).

Standard library only; nothing here talks to the API.
"""
from __future__ import annotations

COMPONENT_KINDS = ("services", "workers", "jobs", "static_sites", "functions")
IMAGE_KINDS = ("services", "workers", "jobs")
SINGULAR = {"services": "service", "workers": "worker", "jobs": "job", "static_sites": "static site",
            "functions": "functions component", "databases": "database"}
REGISTRY_HOSTS = {"GHCR": "ghcr.io", "DOCR": "registry.digitalocean.com", "DOCKER_HUB": "docker.io"}


def components(spec, kinds=COMPONENT_KINDS):
    """Yield ``(kind, index, component)`` for every component (a dict) of ``kinds`` in ``spec``."""
    for kind in kinds:
        items = (spec or {}).get(kind)
        if not isinstance(items, list):
            continue
        for index, component in enumerate(items):
            if isinstance(component, dict):
                yield kind, index, component


def by_name(spec, kinds=COMPONENT_KINDS):
    """{component name: component} of the named components of ``kinds``."""
    return {comp["name"]: comp for _kind, _index, comp in components(spec, kinds) if comp.get("name")}


def image_components(spec):
    """{component name: image dict} for services, workers and jobs with an image source."""
    return {comp.get("name"): comp["image"] for _kind, _index, comp in components(spec, IMAGE_KINDS)
            if isinstance(comp.get("image"), dict)}


def image_name(image):
    """``ghcr.io/<registry>/<repository>`` of a spec's image source (no tag or digest)."""
    host = REGISTRY_HOSTS.get(image.get("registry_type"), image.get("registry_type") or "?")
    parts = [host] + [p for p in (image.get("registry"), image.get("repository")) if p]
    return "/".join(parts)


def image_ref(image):
    """The full reference: ``name@sha256:...`` when by digest, else ``name:tag``."""
    if not isinstance(image, dict):
        return None
    if image.get("digest"):
        return "%s@%s" % (image_name(image), image["digest"])
    return "%s:%s" % (image_name(image), image.get("tag") or "latest")


def expected_ref(pin):
    """What a pin (``{sha, tag, digest}``) requires the component to run: ('digest', d) or
    ('tag', t), the tag being the SHA when the pin has no tag; ('tag', None) for an empty pin."""
    pin = pin or {}
    if pin.get("digest"):
        return "digest", pin["digest"]
    return "tag", pin.get("tag") or pin.get("sha") or None


def pin_image(pin):
    """A pin as the App Spec image override ``{"digest": d}`` or ``{"tag": t}``; None when the
    pin names neither."""
    kind, value = expected_ref(pin)
    return {kind: value} if value else None


def pin_ref(pin):
    """A pin as an image reference (``image@digest`` or ``image:tag``), for messages and plans."""
    kind, value = expected_ref(pin)
    name = (pin or {}).get("image") or "?"
    return "%s@%s" % (name, value) if kind == "digest" else "%s:%s" % (name, value)
