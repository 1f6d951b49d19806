"""The emulator's state: accounts, apps, deployments, and what the platform does with them.

Deployment phases are time-driven and computed from timestamps on every read (no
background thread): a deployment created at ``t0`` with per-phase durations ``d`` is
PENDING_BUILD during ``[t0, t0+d1)``, BUILDING during the next ``d2`` seconds, then
PENDING_DEPLOY, DEPLOYING and finally ACTIVE (or ERROR when a ``deploy_fail`` fault
applies). ``_advance()`` turns a finished schedule into a stored final phase, makes the
deployment the app's active one and marks the previous active one SUPERSEDED, exactly in
the order the real platform does; a newer deployment created while one is running
SUPERSEDES it at once, ``cancel`` makes it CANCELED.

SECRET env values are never stored in clear text: they are replaced at once by a
deterministic keyed ciphertext ``EV[1:<nonce>:<mac>]`` (HMAC-SHA256 with a per-store
key), the way App Platform returns SECRET values; a value that already is ``EV[...]``
is kept, so reading a spec and sending it back changes nothing. ``secret_matches()``
lets tests check that a given clear value was delivered without it ever being stored.

Errors are raised as ``ApiError(status, id, message)``; the server renders DigitalOcean's
error body ``{id, message, request_id}``. Error ids follow the real API (``not_found``,
``unauthorized``, ``invalid_argument``, ...); status codes follow DigitalOcean's
gRPC-gateway mapping (InvalidArgument/FailedPrecondition -> 400, AlreadyExists -> 409).
"""
import base64
import copy
import datetime
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
import time
import uuid

from ansible_collections.tachyon.infra.plugins.module_utils.do_app_spec_schema import validate_app_spec

from emulator.faults import PHASES_TIMED

TERMINAL = ("ACTIVE", "ERROR", "CANCELED", "SUPERSEDED")
COMPONENT_KINDS = (("services", "service"), ("workers", "worker"), ("jobs", "job"),
                   ("static_sites", "static site"), ("functions", "functions"))
ENCRYPTED = re.compile(r"^EV\[1:[A-Za-z0-9+/=_-]+:[A-Za-z0-9+/=_-]+\]$")
LOG_TYPES = ("BUILD", "DEPLOY", "RUN")
REGIONS = {
    "nyc": ("New York", "us", "north america", ["nyc1", "nyc3"]),
    "ams": ("Amsterdam", "nl", "europe", ["ams3"]),
    "sfo": ("San Francisco", "us", "north america", ["sfo3"]),
    "sgp": ("Singapore", "sg", "asia", ["sgp1"]),
    "lon": ("London", "gb", "europe", ["lon1"]),
    "fra": ("Frankfurt", "de", "europe", ["fra1"]),
    "tor": ("Toronto", "ca", "north america", ["tor1"]),
    "blr": ("Bangalore", "in", "asia", ["blr1"]),
    "syd": ("Sydney", "au", "australia", ["syd1"]),
}


class ApiError(Exception):
    def __init__(self, status, error_id, message):
        super().__init__(message)
        self.status = status
        self.error_id = error_id
        self.message = message


def not_found():
    return ApiError(404, "not_found", "The resource you requested could not be found.")


def iso(ts):
    """Epoch seconds -> RFC 3339 UTC with milliseconds (what the API returns)."""
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.") + "%03dZ" % int((ts % 1) * 1000)


def components(spec):
    """[(kind, name, component_spec)] in spec order: services, workers, jobs, ..."""
    out = []
    for key, kind in COMPONENT_KINDS:
        for comp in spec.get(key) or []:
            out.append((kind, comp.get("name"), comp))
    return out


def image_ref(comp):
    """'ghcr.io/org/repo:tag' (or @digest) of an image-sourced component, else None."""
    image = comp.get("image")
    if not image:
        return None
    hosts = {"GHCR": "ghcr.io", "DOCR": "registry.digitalocean.com", "DOCKER_HUB": "docker.io"}
    host = hosts.get(image.get("registry_type"), image.get("registry_type", "registry"))
    path = "/".join(p for p in (image.get("registry"), image.get("repository")) if p)
    if image.get("digest"):
        return "%s/%s@%s" % (host, path, image["digest"])
    return "%s/%s:%s" % (host, path, image.get("tag") or "latest")


def spec_findings(spec):
    """Schema findings (vendored AppSpec + overlay) plus the checks App Platform adds."""
    if not isinstance(spec, dict):
        return [{"path": "$.spec", "message": "spec must be an object", "hint": "send {\"spec\": {...}}"}]
    findings = list(validate_app_spec(spec))
    if findings:
        return findings
    seen = {}
    for kind, name, _ in components(spec):
        if name in seen:
            findings.append({"path": "$", "message": "component name %r is used by a %s and a %s"
                             % (name, seen[name], kind),
                             "hint": "component names must be unique within an app"})
        seen[name] = kind
    return findings


class Store:
    """All state, guarded by one lock. ``base_url`` is set by the server once it is bound."""

    def __init__(self, phase_seconds=None, health_component="api", state_dir=None, faults=None):
        self.lock = threading.RLock()
        self.base_url = "http://127.0.0.1"
        self.phase_seconds = dict.fromkeys(PHASES_TIMED, 1.0)
        if phase_seconds:
            self.phase_seconds.update(phase_seconds)
        self.health_component = health_component
        self.state_dir = state_dir
        self.faults = faults
        self.key = secrets.token_hex(32)
        self.accounts = {}   # name -> {name, uuid, token}
        self.apps = {}       # app_id -> app record
        self.deployments = {}  # deployment_id -> deployment record

    # ----------------------------------------------------------------- persistence
    def state_file(self):
        return os.path.join(self.state_dir, "state.json") if self.state_dir else None

    def load(self):
        path = self.state_file()
        if not path or not os.path.exists(path):
            return False
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        self.key = data["key"]
        self.accounts.update(data["accounts"])
        self.apps = data["apps"]
        self.deployments = data["deployments"]
        return True

    def save(self):
        """Write state.json atomically (SECRET values are already ciphertext)."""
        path = self.state_file()
        if not path:
            return
        os.makedirs(self.state_dir, exist_ok=True)
        data = {"key": self.key, "accounts": self.accounts, "apps": self.apps,
                "deployments": self.deployments}
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".state.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    # ----------------------------------------------------------------- accounts
    def add_account(self, name, token, account_uuid=None):
        with self.lock:
            for other in self.accounts.values():
                if other["token"] == token and other["name"] != name:
                    raise ValueError("token of account %r is already used by account %r"
                                     % (name, other["name"]))
            self.accounts[name] = {"name": name, "token": token,
                                   "uuid": account_uuid or str(uuid.uuid5(uuid.NAMESPACE_URL, "account:" + name))}

    def account_for_token(self, token):
        if not token:
            return None
        for account in self.accounts.values():
            if hmac.compare_digest(account["token"], token):
                return account
        return None

    # ----------------------------------------------------------------- secrets
    def _cipher(self, value):
        mac = hmac.new(self.key.encode(), value.encode("utf-8"), hashlib.sha256).digest()
        return "EV[1:%s:%s]" % (base64.b64encode(mac[:12]).decode(), base64.b64encode(mac[12:]).decode())

    def _encrypt_spec(self, spec):
        spec = copy.deepcopy(spec)
        env_lists = [spec.get("envs") or []]
        for _, _, comp in components(spec):
            env_lists.append(comp.get("envs") or [])
        for envs in env_lists:
            for env in envs:
                value = env.get("value")
                if env.get("type") == "SECRET" and value and not ENCRYPTED.match(value):
                    env["value"] = self._cipher(value)
        return spec

    def secret_matches(self, app_id, key, value, component=None):
        """True when the app's current spec holds SECRET ``key`` (app-level, or in
        ``component``) with the ciphertext of ``value``."""
        with self.lock:
            app = self.apps.get(app_id)
            if not app:
                raise not_found()
            spec = app["spec"]
            if component:
                comps = [c for _, name, c in components(spec) if name == component]
                envs = comps[0].get("envs") or [] if comps else []
            else:
                envs = spec.get("envs") or []
            wanted = self._cipher(value)
            return any(e.get("key") == key and e.get("type") == "SECRET" and e.get("value") == wanted
                       for e in envs)

    # ----------------------------------------------------------------- lookups
    def app_for(self, account, app_id):
        app = self.apps.get(app_id)
        if app is None or app["account"] != account["name"]:
            raise not_found()
        return app

    def deployment_for(self, app, deployment_id):
        dep = self.deployments.get(deployment_id)
        if dep is None or dep["app_id"] != app["id"]:
            raise not_found()
        return dep

    # ----------------------------------------------------------------- timeline
    def _schedule(self, dep):
        """[(phase, start, end)] of the timed phases, then (final_phase, end, None)."""
        out, t = [], dep["created_at"]
        fail = dep.get("fail") or {}
        for phase in PHASES_TIMED:
            end = t + dep["durations"][phase]
            out.append((phase, t, end))
            t = end
            if phase == "BUILDING" and fail.get("stage") == "build":
                return out + [("ERROR", t, None)]
        return out + [("ERROR" if fail.get("stage") == "deploy" else "ACTIVE", t, None)]

    def phase_of(self, dep, now):
        """(phase, since) at time ``now``."""
        final = dep.get("final")
        if final and final["at"] <= now:
            return final["phase"], final["at"]
        for phase, start, end in self._schedule(dep):
            if end is None or now < end:
                return phase, start
        raise AssertionError("unreachable")

    def _advance(self, app, now):
        """Finalize the in-progress deployment of ``app`` if its schedule ended before now."""
        dep_id = app.get("in_progress")
        if not dep_id:
            return
        dep = self.deployments[dep_id]
        natural, end = self._schedule(dep)[-1][:2]
        if now < end:
            return
        dep["final"] = {"phase": natural, "at": end}
        dep["updated_at"] = end
        app["in_progress"] = None
        if natural == "ACTIVE":
            dep["active_at"] = end
            previous = app.get("active")
            if previous and previous != dep_id:
                prev = self.deployments[previous]
                prev["final"] = {"phase": "SUPERSEDED", "at": end}
                prev["updated_at"] = end
            app["previous_active"] = previous
            app["active"] = dep_id
            app["last_active_at"] = end
        self.save()

    # ----------------------------------------------------------------- deployments
    def _new_deployment(self, app, spec, cause, now, cloned_from=None, update_sources=False,
                        use_faults=True):
        self._advance(app, now)
        running = app.get("in_progress")
        if running:
            old = self.deployments[running]
            old["final"] = {"phase": "SUPERSEDED", "at": now}
            old["updated_at"] = now
        durations = dict(self.phase_seconds)
        fail = None
        for fault in (self.faults.take_deployment_faults(app["id"]) if self.faults and use_faults else []):
            if fault["kind"] == "slow_phase":
                durations[fault["phase"]] = float(fault["seconds"])
            elif fault["kind"] == "deploy_fail" and fail is None:
                names = [name for _, name, _ in components(spec)]
                fail = {"stage": fault["stage"], "component": fault.get("component") or (names[0] if names else "")}
        app["revision"] = app.get("revision", 0) + 1
        dep = {
            "id": str(uuid.uuid4()), "app_id": app["id"], "spec": copy.deepcopy(spec),
            "cause": cause, "cloned_from": cloned_from, "created_at": now, "updated_at": now,
            "durations": durations, "fail": fail, "final": None, "active_at": None,
            "source_rev": app["revision"] if update_sources else app.get("source_rev", 1),
        }
        if update_sources:
            app["source_rev"] = app["revision"]
        self.deployments[dep["id"]] = dep
        app["deployments"].insert(0, dep["id"])
        app["in_progress"] = dep["id"]
        app["last_created_at"] = now
        return dep

    def _refuse_if_pinned(self, app):
        if app.get("pinned"):
            raise ApiError(400, "failed_precondition",
                           "app is pinned to rollback deployment %s: new deployments are disabled "
                           "until the rollback is committed (POST /v2/apps/%s/rollback/commit) or "
                           "reverted (POST /v2/apps/%s/rollback/revert)"
                           % (app["pinned"], app["id"], app["id"]))

    @staticmethod
    def _refuse_spec(findings):
        parts = []
        for finding in findings:
            field = finding["path"][2:] if finding["path"].startswith("$.") else "(the spec itself)"
            text = "error validating app spec field %s: %s" % (field, finding["message"])
            if finding.get("hint"):
                text += " (%s)" % finding["hint"]
            parts.append(text)
        raise ApiError(400, "invalid_argument", "; ".join(parts) or "invalid app spec")

    def _check_name(self, account, spec, app_id=None):
        for other in self.apps.values():
            if other["account"] == account["name"] and other["id"] != app_id \
                    and other["spec"].get("name") == spec.get("name"):
                raise ApiError(409, "already_exists",
                               "an app named %r already exists in this account" % spec.get("name"))

    def create_app(self, account, spec, app_id=None, now=None, initial_active=False):
        now = time.time() if now is None else now
        with self.lock:
            findings = spec_findings(spec)
            if findings:
                self._refuse_spec(findings)
            self._check_name(account, spec)
            app_id = app_id or str(uuid.uuid4())
            if app_id in self.apps:
                raise ApiError(409, "already_exists", "app id %s already exists" % app_id)
            app = {"id": app_id, "account": account["name"], "spec": self._encrypt_spec(spec),
                   "created_at": now, "updated_at": now, "deployments": [], "in_progress": None,
                   "active": None, "previous_active": None, "pinned": None, "pre_rollback_spec": None,
                   "last_active_at": None, "last_created_at": None}
            self.apps[app_id] = app
            if initial_active:
                total = sum(self.phase_seconds.values())
                dep = self._new_deployment(app, app["spec"], "initial deployment (seed)", now - total,
                                           use_faults=False)
                self._advance(app, now)
                assert app["active"] == dep["id"]
            else:
                dep = self._new_deployment(app, app["spec"], "app created", now)
            self.save()
            return app, dep

    def update_app(self, account, app_id, spec, update_all_source_versions=False, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            findings = spec_findings(spec)
            if findings:
                self._refuse_spec(findings)
            self._refuse_if_pinned(app)
            self._check_name(account, spec, app_id)
            new_spec = self._encrypt_spec(spec)
            dep = None
            if new_spec != app["spec"] or update_all_source_versions:
                cause = "app spec updated" if new_spec != app["spec"] else "source versions updated"
                app["spec"] = new_spec
                app["updated_at"] = now
                dep = self._new_deployment(app, new_spec, cause, now,
                                           update_sources=bool(update_all_source_versions))
            self.save()
            return app, dep

    def delete_app(self, account, app_id):
        with self.lock:
            app = self.app_for(account, app_id)
            for dep_id in app["deployments"]:
                self.deployments.pop(dep_id, None)
            del self.apps[app_id]
            self.save()
            return app_id

    def create_deployment(self, account, app_id, force_build=False, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            self._refuse_if_pinned(app)
            cause = "manual (force build)" if force_build else "manual"
            dep = self._new_deployment(app, app["spec"], cause, now)
            self.save()
            return dep

    def cancel_deployment(self, account, app_id, deployment_id, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            dep = self.deployment_for(app, deployment_id)
            self._advance(app, now)
            phase, _ = self.phase_of(dep, now)
            if phase in TERMINAL:
                raise ApiError(400, "failed_precondition",
                               "deployment %s is %s and can no longer be canceled" % (dep["id"], phase))
            dep["final"] = {"phase": "CANCELED", "at": now}
            dep["updated_at"] = now
            app["in_progress"] = None
            self.save()
            return dep

    # ----------------------------------------------------------------- rollback
    def _rollback_conditions(self, app, dep, now):
        """(error or None, warnings) like POST /rollback/validate."""
        self._advance(app, now)
        warnings = []
        missing = [name for _, name, comp in components(dep["spec"])
                   if comp.get("image") and not comp["image"].get("digest")]
        if missing:
            warnings.append({"code": "image_source_missing_digest", "components": missing,
                             "message": "one or more components are missing an image digest and "
                                        "are not guaranteed rollback to the old version."})
        if app.get("pinned"):
            return ({"code": "app_pinned", "message": "app is already pinned to rollback deployment %s"
                     % app["pinned"]}, warnings)
        phase, _ = self.phase_of(dep, now)
        if phase not in TERMINAL:
            return ({"code": "incompatible_phase",
                     "message": "deployment phase %s is unsuitable for rollback" % phase}, warnings)
        if not dep.get("active_at"):
            return ({"code": "incompatible_result",
                     "message": 'deployment result "%s" is unsuitable for rollback'
                                % ("failed" if phase == "ERROR" else phase.lower())}, warnings)
        if dep["id"] == app.get("active"):
            return ({"code": "incompatible_result",
                     "message": "deployment %s is the app's active deployment" % dep["id"]}, warnings)
        return None, warnings

    def validate_rollback(self, account, app_id, deployment_id, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            dep = self.deployment_for(app, deployment_id)
            error, warnings = self._rollback_conditions(app, dep, now)
            body = {"valid": error is None}
            if error:
                body["error"] = error
            if warnings:
                body["warnings"] = warnings
            return body

    def rollback(self, account, app_id, deployment_id, skip_pin=False, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            target = self.deployment_for(app, deployment_id)
            error, _ = self._rollback_conditions(app, target, now)
            if error:
                raise ApiError(400, "failed_precondition", "rollback is not possible: %s (%s)"
                               % (error["message"], error["code"]))
            previous_spec = app["spec"]
            app["spec"] = copy.deepcopy(target["spec"])
            app["updated_at"] = now
            dep = self._new_deployment(app, app["spec"], "rollback to deployment %s" % target["id"], now,
                                       cloned_from=target["id"])
            if not skip_pin:
                app["pinned"] = dep["id"]
                app["pre_rollback_spec"] = previous_spec
            self.save()
            return dep

    def _require_pinned(self, app):
        if not app.get("pinned"):
            raise ApiError(400, "failed_precondition",
                           "app %s has no rollback in progress: it is not pinned" % app["id"])

    def commit_rollback(self, account, app_id, now=None):
        with self.lock:
            app = self.app_for(account, app_id)
            self._require_pinned(app)
            app["pinned"] = None
            app["pre_rollback_spec"] = None
            self.save()

    def revert_rollback(self, account, app_id, now=None):
        now = time.time() if now is None else now
        with self.lock:
            app = self.app_for(account, app_id)
            self._require_pinned(app)
            app["spec"] = app["pre_rollback_spec"]
            app["pinned"] = None
            app["pre_rollback_spec"] = None
            app["updated_at"] = now
            dep = self._new_deployment(app, app["spec"], "rollback reverted", now)
            self.save()
            return dep

    # ----------------------------------------------------------------- rendering
    def live_url(self, app):
        return "%s/_live/%s" % (self.base_url, app["id"])

    def _steps(self, dep, now):
        """Progress steps: 'build' and 'deploy', each with one child step per component."""
        schedule = {p: (s, e) for p, s, e in self._schedule(dep)}
        fail = dep.get("fail") or {}
        final = dep.get("final") or {}
        cut = final.get("at") if final.get("phase") in ("CANCELED", "SUPERSEDED") else None
        comps = components(dep["spec"])
        # PRE_DEPLOY jobs run first in the deploy stage, like on App Platform
        deploy_order = sorted(comps, key=lambda c: 0 if c[2].get("kind") == "PRE_DEPLOY" else 1)

        def stage(name, timed_phase, stage_key, entries, verb):
            start, end = schedule.get(timed_phase, (None, None))
            if start is None:
                # the deployment failed before this stage
                return {"name": name, "status": "PENDING", "steps": [
                    {"name": c[1], "component_name": c[1], "status": "PENDING",
                     "message_base": "%s %s" % (verb(c), c[0])} for c in entries]}
            children = []
            stage_status = "SUCCESS"
            for kind, comp_name, comp in entries:
                step = {"name": comp_name, "component_name": comp_name,
                        "message_base": "%s %s" % (verb((kind, comp_name, comp)), kind)}
                failing = fail.get("stage") == stage_key and fail.get("component") == comp_name
                if cut is not None and cut < end and now >= cut:
                    status = "ERROR" if cut >= start else "PENDING"
                    if status == "ERROR":
                        step["reason"] = {"code": final["phase"].lower(),
                                          "message": "deployment was %s" % final["phase"].lower()}
                elif now < start:
                    status = "PENDING"
                elif now < end:
                    status = "RUNNING"
                elif failing:
                    status = "ERROR"
                    step["reason"] = ({"code": "BuildJobFailed",
                                       "message": "failed to pull image %s: manifest unknown"
                                                  % (image_ref(comp) or comp_name)}
                                      if stage_key == "build" else
                                      {"code": "DeployContainerHealthChecksFailed",
                                       "message": "component %s failed its health checks: container "
                                                  "exited with code 1" % comp_name})
                else:
                    status = "SUCCESS"
                if status in ("RUNNING", "ERROR", "SUCCESS") and now >= start:
                    step["started_at"] = iso(start)
                if status in ("ERROR", "SUCCESS"):
                    step["ended_at"] = iso(min(end, cut) if cut is not None else end)
                step["status"] = status
                children.append(step)
            statuses = [c["status"] for c in children]
            for candidate in ("ERROR", "RUNNING", "PENDING"):
                if candidate in statuses:
                    stage_status = candidate
                    break
            node = {"name": name, "status": stage_status, "steps": children}
            if now >= start and stage_status != "PENDING":
                node["started_at"] = iso(start)
            if stage_status in ("SUCCESS", "ERROR"):
                node["ended_at"] = iso(min(end, cut) if cut is not None else end)
            return node

        build = stage("build", "BUILDING", "build", comps,
                      lambda c: "Pulling image for" if c[2].get("image") else "Building")
        deploy = stage("deploy", "DEPLOYING", "deploy", deploy_order,
                       lambda c: "Running pre-deploy" if c[2].get("kind") == "PRE_DEPLOY" else "Deploying")
        steps = [build, deploy]
        summary = [child for top in steps for child in top["steps"]]
        count = {s: sum(1 for c in summary if c["status"] == s) for s in ("PENDING", "RUNNING", "SUCCESS", "ERROR")}
        return {"pending_steps": count["PENDING"], "running_steps": count["RUNNING"],
                "success_steps": count["SUCCESS"], "error_steps": count["ERROR"],
                "total_steps": len(summary), "steps": steps, "summary_steps": summary}

    def render_deployment(self, dep, now=None):
        now = time.time() if now is None else now
        phase, since = self.phase_of(dep, now)
        body = {"id": dep["id"], "cause": dep["cause"], "spec": copy.deepcopy(dep["spec"]),
                "phase": phase, "phase_last_updated_at": iso(since),
                "created_at": iso(dep["created_at"]), "updated_at": iso(max(since, dep["created_at"])),
                "progress": self._steps(dep, now), "tier_slug": "basic"}
        if dep.get("cloned_from"):
            body["cloned_from"] = dep["cloned_from"]
        for key, kind in COMPONENT_KINDS:
            if key == "functions":
                continue
            items = []
            for comp in dep["spec"].get(key) or []:
                item = {"name": comp.get("name")}
                source = comp.get("github") or comp.get("gitlab") or comp.get("git") or comp.get("bitbucket")
                if source:
                    item["source_commit_hash"] = hashlib.sha1(
                        ("%s@%s#%s" % (source.get("repo") or source.get("repo_clone_url"),
                                       source.get("branch"), dep["source_rev"])).encode()).hexdigest()
                items.append(item)
            if items:
                body[key] = items
        return body

    def render_app(self, app, now=None, pending=None):
        now = time.time() if now is None else now
        self._advance(app, now)
        account = self.accounts[app["account"]]
        region = app["spec"].get("region") or "nyc"
        label, flag, continent, dcs = REGIONS.get(region, (region, region, "", []))
        body = {"id": app["id"], "owner_uuid": account["uuid"], "spec": copy.deepcopy(app["spec"]),
                "created_at": iso(app["created_at"]), "updated_at": iso(app["updated_at"]),
                "tier_slug": "basic",
                "region": {"slug": region, "label": label, "flag": flag, "continent": continent,
                           "data_centers": dcs, "disabled": False, "default": region == "nyc"}}
        if app.get("last_created_at"):
            body["last_deployment_created_at"] = iso(app["last_created_at"])
        if app.get("active"):
            live = self.live_url(app)
            body.update({"active_deployment": self.render_deployment(self.deployments[app["active"]], now),
                         "live_url": live, "live_url_base": live, "default_ingress": live,
                         "live_domain": live.split("://", 1)[1].split("/", 1)[0],
                         "last_deployment_active_at": iso(app["last_active_at"])})
        if app.get("in_progress"):
            body["in_progress_deployment"] = self.render_deployment(self.deployments[app["in_progress"]], now)
        if app.get("pinned"):
            body["pinned_deployment"] = self.render_deployment(self.deployments[app["pinned"]], now)
        if pending is not None:
            body["pending_deployment"] = self.render_deployment(pending, now)
        return body

    # ----------------------------------------------------------------- logs
    def log_signature(self, app_id, dep_id, component, log_type):
        msg = "%s/%s/%s/%s" % (app_id, dep_id, component, log_type)
        return hmac.new(self.key.encode(), msg.encode(), hashlib.sha256).hexdigest()[:32]

    def log_url(self, app_id, dep_id, component, log_type):
        return "%s/_logs/%s/%s/%s/%s?sig=%s" % (self.base_url, app_id, dep_id, component, log_type,
                                                self.log_signature(app_id, dep_id, component, log_type))

    def log_text(self, dep, component, log_type, now=None):
        """The log lines of one component ('_all' for every component) at time ``now``."""
        now = time.time() if now is None else now
        schedule = {p: (s, e) for p, s, e in self._schedule(dep)}
        fail = dep.get("fail") or {}
        final = dep.get("final") or {}
        cut = final.get("at") if final.get("phase") in ("CANCELED", "SUPERSEDED") else None
        horizon = min(now, cut) if cut is not None else now
        lines = []
        for kind, name, comp in components(dep["spec"]):
            if component not in ("_all", name):
                continue
            ref = image_ref(comp) or "source %s" % json.dumps(comp.get("github") or comp.get("git") or {})
            if log_type == "BUILD" and "BUILDING" in schedule:
                start, end = schedule["BUILDING"]
                if horizon >= start:
                    lines.append((start, name, "Pulling %s" % ref if comp.get("image") else "Building from %s" % ref))
                if horizon >= end:
                    if fail.get("stage") == "build" and fail.get("component") == name:
                        lines.append((end, name, "ERROR failed to pull image %s: manifest unknown" % ref))
                        lines.append((end, name, "ERROR build failed"))
                    else:
                        lines.append((end, name, "Image %s ready" % ref))
                        lines.append((end, name, "build complete"))
            if log_type == "DEPLOY" and "DEPLOYING" in schedule:
                start, end = schedule["DEPLOYING"]
                if horizon >= start:
                    verb = "Running pre-deploy job" if comp.get("kind") == "PRE_DEPLOY" else "Starting %s" % kind
                    lines.append((start, name, "%s from %s" % (verb, ref)))
                if horizon >= end:
                    if fail.get("stage") == "deploy" and fail.get("component") == name:
                        lines.append((end, name, "ERROR container exited with code 1"))
                        lines.append((end, name, "ERROR deploy failed: component %s failed its health checks"
                                      % name))
                    else:
                        lines.append((end, name, "%s is ready" % name))
            if log_type == "RUN" and dep.get("active_at") and horizon >= dep["active_at"]:
                if kind == "service":
                    lines.append((dep["active_at"], name, "listening on port %s" % comp.get("http_port", 8080)))
                    lines.append((dep["active_at"], name, "GET /health 200"))
                elif kind == "worker":
                    lines.append((dep["active_at"], name, "worker started"))
        if cut is not None and now >= cut:
            lines.append((cut, "-", "deployment %s" % final["phase"].lower()))
        lines.sort(key=lambda item: item[0])
        return "".join("%s %s %s\n" % (name, iso(ts), text) for ts, name, text in lines)

    # ----------------------------------------------------------------- health
    def version_of(self, dep):
        if not dep:
            return "unknown"
        for _, name, comp in components(dep["spec"]):
            if name == self.health_component:
                image = comp.get("image") or {}
                return image.get("tag") or image.get("digest") or "unknown"
        return "unknown"

    def health(self, app_id, now=None):
        """(status_code, payload dict or None) of GET <live_url>/health."""
        now = time.time() if now is None else now
        with self.lock:
            app = self.apps.get(app_id)
            if app is None:
                return 404, None
            self._advance(app, now)
            if not app.get("active"):
                return 503, None
            active = self.deployments[app["active"]]
            since_active = now - active["active_at"]
            version = self.version_of(active)
            status, code, checks = "healthy", 200, {"postgres": "connected", "redis": "connected"}
            for fault in (self.faults.health_faults(app_id) if self.faults else []):
                if fault.get("seconds") is not None and since_active >= fault["seconds"]:
                    continue
                if fault["mode"] == "slow_start":
                    return 503, None
                if fault["mode"] == "unhealthy":
                    status, code, checks = "unhealthy", 503, {"postgres": "disconnected", "redis": "connected"}
                if fault["mode"] == "stale_version":
                    previous = app.get("previous_active")
                    version = self.version_of(self.deployments.get(previous)) if previous else "unknown"
            return code, {"status": status, "version": version, "timestamp": iso(now), "checks": checks}

    # ----------------------------------------------------------------- admin
    def snapshot(self, now=None):
        """GET /_emulator/state: apps with phases, accounts without tokens, settings, faults."""
        now = time.time() if now is None else now
        with self.lock:
            apps = {}
            for app in self.apps.values():
                self._advance(app, now)
                apps[app["id"]] = {
                    "account": app["account"], "name": app["spec"].get("name"),
                    "live_url": self.live_url(app) if app.get("active") else None,
                    "active_deployment": app.get("active"), "in_progress_deployment": app.get("in_progress"),
                    "pinned_deployment": app.get("pinned"),
                    "deployments": [{"id": d, "phase": self.phase_of(self.deployments[d], now)[0],
                                     "cause": self.deployments[d]["cause"]} for d in app["deployments"]],
                }
            return {"base_url": self.base_url, "phase_seconds": dict(self.phase_seconds),
                    "health_component": self.health_component,
                    "accounts": {n: {"uuid": a["uuid"]} for n, a in self.accounts.items()},
                    "apps": apps, "faults": self.faults.listing() if self.faults else []}
