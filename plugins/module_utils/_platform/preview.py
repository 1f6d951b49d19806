# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Pull-request previews on App Platform: names, the marker, the preview App Spec, the reaper's
decisions. Pure functions (no API calls); plugins/modules/app_preview.py does the calls.

Ground truth used here (DigitalOcean's own publications):

* App name: ``AppSpec.name`` in the vendored OpenAPI
  (specification/resources/apps/models/app_spec.yml, digitalocean/openapi@7c1300c):
  ``minLength: 2``, ``maxLength: 32``, ``pattern: ^[a-z][a-z0-9-]{0,30}[a-z0-9]$``, "Must be
  unique across all apps in the same account" (the same text in godo's apps.gen.go@3fce660,
  ``AppSpec.Name``).
* Smallest instance size: ``apps-s-1vcpu-0.5gb`` (Shared 1VCPU 0.5GB, USD 5.00/month,
  ``single_instance_only: true``), the cheapest slug of the OpenAPI ``instance_sizes`` example
  (specification/resources/apps/responses/examples.yml#/instance_sizes). Single-instance only:
  a preview component runs one instance and no autoscaling.
* Dev databases: ``AppDatabaseSpec.production`` "Whether this is a production or dev database"
  and ``cluster_name`` "required for production databases. For dev databases, if cluster_name is
  not set, a new cluster will be provisioned" (app_database_spec.yml; godo ``AppDatabaseSpec``).
  ``db_name``/``db_user`` name a database and user of an existing cluster, so a dev database gets
  neither. Which engines a dev database may use is not in the schema; the engines turned into dev
  databases are a parameter (``dev_engines``, default PG: App Platform's dev databases are
  PostgreSQL). Any other database (Redis here) is pointed at a cluster set aside for previews
  (``clusters``), never at staging's or production's, or the preview is refused.
* The marker: an app-level env var (``AppSpec.envs``, godo ``AppSpec.Envs []*AppVariableDefinition``,
  "A list of environment variables made available to all components in the app"), key
  ``TACHYON_PREVIEW``, type GENERAL, value ``<repo>#<pr>``. App Platform returns GENERAL values
  as given (only SECRET values come back as ``EV[...]`` ciphertext), so the reaper can read it
  from ``GET /v2/apps``. An app is a preview only when the marker is there, well formed, AND the
  app's name is the name the hub derives from that marker: an app with a preview-like name but no
  marker, or a marker copied into another app, is never touched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import re
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import parse_utc
from ansible_collections.tachyon.infra.plugins.module_utils._spec.components import IMAGE_KINDS, components, pin_image

from ansible_collections.tachyon.infra.plugins.module_utils._common.input_types import identifier_problem

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
NAME_MAX = 32
SMALLEST_SIZE = "apps-s-1vcpu-0.5gb"
MARKER_KEY = "TACHYON_PREVIEW"
MARKER_RE = re.compile(r"^(?P<repo>[A-Za-z0-9][A-Za-z0-9._-]*(?:/[A-Za-z0-9._-]+)?)#(?P<pr>[A-Za-z0-9][A-Za-z0-9._/-]{0,199})\Z")
HASH_LEN = 6


class PreviewError(ValueError):
    """The preview cannot be made as asked; the message says what to change."""


def _slug(text):
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", str(text).lower())).strip("-")


def check_ref(repo, pr):
    """Validate a (repo, pr) pair; returns the marker value ``<repo>#<pr>``."""
    value = "%s#%s" % (repo, pr)
    if not repo or pr in (None, "") or not MARKER_RE.match(value):
        raise PreviewError("preview_repo %r / preview_pr %r: give the service repository (owner/name or name) "
                           "and the pull request number (or a branch name)" % (repo, pr))
    problem = identifier_problem(pr, "pr_or_branch")
    if problem:
        raise PreviewError("preview_pr %r is %s: give the pull request number (42) or a branch name git accepts "
                           "(`git check-ref-format --branch <name>`)" % (pr, problem))
    return value


def preview_name(repo, pr):
    """The app name of the preview of ``repo``'s pull request ``pr``: readable, stable, within
    App Platform's 32 characters and name pattern.

    ``<repo>-pr<N>-<hash>`` for a PR number, ``<repo>-<branch>-<hash>`` for a branch; the repo
    (without its owner) and the branch are cut to fit, the 6-hex hash of the full
    ``<repo>#<pr>`` keeps two long names that share a prefix apart.
    """
    marker = check_ref(repo, pr)
    digest = hashlib.sha256(marker.encode("utf-8")).hexdigest()[:HASH_LEN]
    short_repo = _slug(str(repo).rsplit("/", 1)[-1]) or "app"
    if not short_repo[0].isalpha():  # an App Platform name starts with a letter
        short_repo = "p" + short_repo
    ref = str(pr)
    ref_slug = ("pr%s" % ref) if ref.isdigit() else (_slug(ref) or "ref")
    room = NAME_MAX - HASH_LEN - 1  # "<body>-<hash>"
    body = "%s-%s" % (short_repo, ref_slug)
    if len(body) > room:
        # the ref keeps at least 10 characters (pr12345678), the repo gets the rest
        ref_slug = ref_slug[:max(room - 1 - len(short_repo), 10)].strip("-")
        short_repo = short_repo[:room - 1 - len(ref_slug)].strip("-")
        body = "-".join(p for p in (short_repo, ref_slug) if p)
    name = "%s-%s" % (body, digest)
    if not NAME_RE.match(name):  # pragma: no cover - the construction above always matches
        raise PreviewError("could not derive an App Platform name from %r" % marker)
    return name


def marker_env(repo, pr):
    return {"key": MARKER_KEY, "value": check_ref(repo, pr), "scope": "RUN_TIME", "type": "GENERAL"}


def marker_of(app_or_spec):
    """(repo, pr) when the app (or spec) carries a valid hub marker and its name is the name the
    hub derives from that marker; else None."""
    spec = app_or_spec.get("spec", app_or_spec) if isinstance(app_or_spec, dict) else {}
    if not isinstance(spec, dict):
        return None
    found = [e for e in spec.get("envs") or [] if isinstance(e, dict) and e.get("key") == MARKER_KEY]
    if len(found) != 1:
        return None
    env = found[0]
    if (env.get("type") or "GENERAL") != "GENERAL":
        return None
    match = MARKER_RE.match(str(env.get("value") or ""))
    if not match:
        return None
    repo, pr = match.group("repo"), match.group("pr")
    try:
        if preview_name(repo, pr) != spec.get("name"):
            return None
    except PreviewError:
        return None
    return repo, pr


def _secret_envs(envs, secrets, used):
    """SECRET envs with the preview's own value, or dropped; bindable ``${...}`` values kept.
    A literal value already in the staging spec is never carried into a preview."""
    out = []
    for env in envs or []:
        if env.get("type") == "SECRET":
            value = env.get("value")
            if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
                out.append(dict(env))
                continue
            key = env.get("key")
            if key in secrets and secrets[key] not in (None, ""):
                used.add(key)
                out.append(dict(env, value=str(secrets[key])))
            continue
        out.append(dict(env))
    return out


def cluster_names(*specs):
    names = set()
    for spec in specs:
        for db in (spec or {}).get("databases") or []:
            if db.get("cluster_name"):
                names.add(db["cluster_name"])
    return names


def preview_spec(base, repo, pr, secrets=None, clusters=None, dev_engines=("PG",), forbidden_clusters=(),
                 size=SMALLEST_SIZE):
    """The preview App Spec made from ``base`` (the staging App Spec, images already rendered).

    Returns (spec, notes): spec named ``preview_name(repo, pr)``, marked, without domains and
    alerts, every sized component on ``size`` with one instance, databases as dev databases (or
    on ``clusters``), SECRET envs with the preview's own ``secrets`` or dropped. Raises
    PreviewError when a database can be neither.
    """
    secrets = dict(secrets or {})
    clusters = dict(clusters or {})
    spec = copy.deepcopy(base)
    notes = []
    spec["name"] = preview_name(repo, pr)
    for key in ("domains", "alerts"):
        if spec.pop(key, None):
            notes.append("dropped %s" % key)
    egress = spec.get("egress") or {}
    if egress.get("type") == "DEDICATED_IP":
        spec.pop("egress")
        notes.append("dropped the dedicated egress IP")
    used = set()
    for kind, _index, comp in components(spec):
        if comp.pop("alerts", None):
            notes.append("dropped alerts of %s" % comp.get("name"))
        if kind in IMAGE_KINDS:
            comp["instance_size_slug"] = size
            comp["instance_count"] = 1
            comp.pop("autoscaling", None)
        if "envs" in comp:
            comp["envs"] = _secret_envs(comp["envs"], secrets, used)
    envs = [e for e in _secret_envs(spec.get("envs"), secrets, used) if e.get("key") != MARKER_KEY]
    envs.append(marker_env(repo, pr))
    spec["envs"] = envs
    forbidden = set(forbidden_clusters) | cluster_names(base)
    databases = []
    for db in spec.get("databases") or []:
        name, engine = db.get("name"), db.get("engine") or "UNSET"
        if name in clusters:
            target = clusters[name]
            if not target or target in forbidden:
                raise PreviewError("database %s: tachyon_preview_clusters.%s is %r, a cluster staging or production "
                                   "uses; previews must never share them: name a cluster set aside for previews"
                                   % (name, name, target))
            kept = {k: v for k, v in db.items() if k not in ("db_name", "db_user")}
            kept.update(cluster_name=target, production=True)
            databases.append(kept)
        elif engine in dev_engines:
            dev = {k: v for k, v in db.items() if k not in ("cluster_name", "db_name", "db_user", "size", "num_nodes")}
            dev["production"] = False
            databases.append(dev)
        else:
            raise PreviewError("database %s (engine %s) cannot be a dev database (dev databases: %s): set "
                               "tachyon_preview_clusters.%s to a cluster set aside for previews"
                               % (name, engine, ", ".join(dev_engines) or "none", name))
    if databases:
        spec["databases"] = databases
    unused = sorted(set(secrets) - used)
    if unused:
        notes.append("preview secrets no SECRET env uses (ignored): %s" % ", ".join(unused))
    return spec, notes


def _ref_set(items):
    out = set()
    for item in items or []:
        if isinstance(item, dict):
            item = "%s#%s" % (item.get("repo"), item.get("pr"))
        out.add(str(item))
    return out


def _same_repo(left, right):
    """'owner/name' and 'name' name the same repository."""
    return left == right or left.rsplit("/", 1)[-1] == right.rsplit("/", 1)[-1]


def _listed(ref, refs):
    repo, _hash, pr = ref.partition("#")
    for other in refs:
        o_repo, _h, o_pr = other.partition("#")
        if o_pr == pr and _same_repo(repo, o_repo):
            return True
    return False


def reap_decisions(apps, now, ttl_hours, closed=(), open_prs=None):
    """Which apps to delete. Returns (reap, keep, others): reap and keep are lists of
    {id, name, ref, age_hours, reason}; others counts apps that are no previews (never touched).

    A preview is reaped when its last deployment by the hub (``updated_at``, else ``created_at``)
    is older than ``ttl_hours``, when its PR is in ``closed`` ("repo#pr" strings or {repo, pr}),
    or, when ``open_prs`` is given (not None), when its PR is not in it.
    """
    closed = _ref_set(closed)
    open_set = None if open_prs is None else _ref_set(open_prs)
    reap, keep, others = [], [], 0
    for app in apps:
        found = marker_of(app)
        if not found:
            others += 1
            continue
        ref = "%s#%s" % found
        stamp = parse_utc(app.get("updated_at")) or parse_utc(app.get("created_at"))
        age = (now - stamp).total_seconds() / 3600.0 if stamp else None
        item = {"id": app.get("id"), "name": (app.get("spec") or {}).get("name"), "ref": ref,
                "age_hours": None if age is None else round(age, 3)}
        if _listed(ref, closed):
            reap.append(dict(item, reason="pull request closed"))
        elif open_set is not None and not _listed(ref, open_set):
            reap.append(dict(item, reason="pull request no longer open"))
        elif age is not None and age > ttl_hours:
            reap.append(dict(item, reason="older than %sh (%sh since its last deployment)" % (ttl_hours, item["age_hours"])))
        else:
            keep.append(item)
    return reap, keep, others


def preview_images(pins, catalog, service, sha, digest):
    """{component: {digest} or {tag}} for the preview: ``service`` (the one under review) at the
    pull request's image ``digest`` (built from ``sha``), every other service of ``catalog`` at
    production's pin (``pins``: the manifest's environments.production.services, what production
    runs now). Returns (images, summary lines). Raises PreviewError when production has no
    recorded deployment, a service has no pin, or the reviewed service is unknown."""
    names = [svc.get("name") for svc in catalog or []]
    if service not in names:
        raise PreviewError("service %r is not in the service catalog (tachyon_services: %s); the pull request's "
                           "repository must be one of the services' repos" % (service, ", ".join(names)))
    if not digest or not re.match(r"^sha256:[0-9a-f]{64}\Z", str(digest)):
        raise PreviewError("%s: the pull request's image has no sha256 digest: build and push it first "
                           "(build-push workflow) and pass preview_digest, or let the run resolve %s" % (service, sha))
    if not pins:
        raise PreviewError("the release manifest records no production deployment: a preview runs every other service "
                           "at what production runs, so deploy production first")
    images, summary = {}, []
    for svc in catalog:
        name, component = svc["name"], svc.get("component") or svc["name"]
        if name == service:
            images[component] = {"digest": digest}
            summary.append("%s: %s @ %s (pull request)" % (name, sha, digest))
            continue
        pin = pins.get(name) or {}
        images[component] = pin_image(pin)
        if not images[component]:
            raise PreviewError("production's record has no pin for %s: deploy production again" % name)
        summary.append("%s: %s @ %s (production)" % (name, pin.get("sha"), pin.get("digest") or "tag " + str(
            pin.get("tag") or pin.get("sha"))))
    return images, summary
