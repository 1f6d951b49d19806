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

The state is split by concern: ``Store`` (this module) holds accounts, secrets, persistence and
the admin snapshot, and mixes in ``apps.AppsMixin``, ``deployments.DeploymentsMixin``,
``rollback.RollbackMixin``, ``logs.LogsMixin``, ``health.HealthMixin`` and ``signals.SignalsMixin``
(App Platform's health, events, restart, maintenance mode); shared helpers live in
``common``.
"""
import base64
import copy
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import time
import uuid

from emulator.apps import AppsMixin
from emulator.common import ENCRYPTED, components, not_found
from emulator.deployments import DeploymentsMixin
from emulator.faults import PHASES_TIMED
from emulator.health import HealthMixin
from emulator.logs import LogsMixin
from emulator.quotas import DEFAULT_DATABASE_LIMIT, QuotasMixin
from emulator.registry import Registry
from emulator.rollback import RollbackMixin
from emulator.signals import SignalsMixin


class Store(AppsMixin, DeploymentsMixin, RollbackMixin, LogsMixin, HealthMixin, QuotasMixin, SignalsMixin):
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
        self.quotas = {"databases": DEFAULT_DATABASE_LIMIT}  # account quotas (emulator/quotas.py)
        self.registry = Registry()  # the ghcr.io stand-in at /_registry (emulator/registry.py)

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
        for _kind, _name, comp in components(spec):
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
                comps = [c for _kind, name, c in components(spec) if name == component]
                envs = comps[0].get("envs") or [] if comps else []
            else:
                envs = spec.get("envs") or []
            wanted = self._cipher(value)
            return any(e.get("key") == key and e.get("type") == "SECRET" and e.get("value") == wanted
                       for e in envs)

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
