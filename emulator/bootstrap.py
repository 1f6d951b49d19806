"""Build a ready-to-serve emulator from a seed file and options (CLI and tests share it).

Seed file (YAML; ``emulator/sandbox-seed.yml`` is the sandbox's)::

    settings:                      # all optional; command-line options win
      phase_seconds: 1.0           # or {BUILDING: 2, DEPLOYING: 1}
      health_component: api        # whose image tag /health reports as version
      rate_limit: {limit: 5000, burst: 250, burst_window: 60}
      registry: {username: sandbox, password: ..., password_env: ...}  # /_registry push credentials
      quotas: {databases: 10}      # the account's Managed Database limit (emulator/quotas.py)
    accounts:
      - name: staging
        token: sandbox-staging-token
        token_env: TACHYON_SANDBOX_STAGING_TOKEN   # optional: the environment overrides
    apps:
      - id: <fixed app id>
        account: staging
        spec: {...}                # an App Spec, or
        spec_file: path.yml        # relative to the seed file; used when it exists and is valid
        maintenance: true          # optional: App Platform then redeployed it for maintenance
    faults: []                     # see emulator.faults

Apps are created with one ACTIVE deployment. With a state folder, a saved state.json is
loaded instead of the seed's apps (accounts are always taken from the seed).
"""
import os
import sys

import yaml

from emulator.common import components, spec_findings
from emulator.faults import Faults, RateLimiter
from emulator.server import EmulatorServer, configure, parse_phase_seconds
from emulator.store import Store


class SeedError(ValueError):
    pass


def load_seed(seed):
    """A seed: None, a dict, or a path to a YAML file -> (dict, base folder)."""
    if seed is None:
        return {}, os.getcwd()
    if isinstance(seed, dict):
        return seed, os.getcwd()
    with open(seed, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise SeedError("%s: a seed file must be a mapping with accounts/apps/settings/faults" % seed)
    return data, os.path.dirname(os.path.abspath(seed))


def _app_spec(entry, base):
    spec_file = entry.get("spec_file")
    if spec_file:
        path = os.path.join(base, spec_file)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                spec = yaml.safe_load(handle)
            findings = spec_findings(spec)
            if not findings:
                return spec
            sys.stderr.write("emulator: %s is not a valid App Spec (%s); using the embedded spec\n"
                             % (path, findings[0]["path"]))
    if "spec" not in entry:
        raise SeedError("app %s: give `spec` (or an existing, valid `spec_file`)" % entry.get("id"))
    return entry["spec"]


def build_server(seed=None, host="127.0.0.1", port=0, state_dir=None, phase_seconds=None,
                 faults=None, rate_limit=None, health_component=None, reset=False, quiet=True):
    """Return an EmulatorServer bound to (host, port) and seeded; call serve_forever()."""
    data, base = load_seed(seed)
    unknown = set(data) - {"settings", "accounts", "apps", "faults"}
    if unknown:
        raise SeedError("seed: unknown keys %s (use settings, accounts, apps, faults)" % ", ".join(sorted(unknown)))
    settings = data.get("settings") or {}
    fault_set = Faults()
    store = Store(phase_seconds=parse_phase_seconds(settings.get("phase_seconds")),
                  health_component=settings.get("health_component") or "api",
                  state_dir=state_dir, faults=fault_set)
    limiter = RateLimiter(**(settings.get("rate_limit") or {}))
    if settings.get("quotas") is not None:
        store.set_quotas(settings["quotas"])
    for account in data.get("accounts") or []:
        token = os.environ.get(account["token_env"]) if account.get("token_env") else None
        store.add_account(account["name"], token or account["token"], account.get("uuid"))
    if state_dir and reset and store.state_file() and os.path.exists(store.state_file()):
        os.unlink(store.state_file())
    if not store.load():
        for entry in data.get("apps") or []:
            if entry.get("account") not in store.accounts:
                raise SeedError("app %s: account %r is not defined under accounts" % (entry.get("id"), entry.get("account")))
            store.create_app(store.accounts[entry["account"]], _app_spec(entry, base),
                             app_id=entry.get("id"), initial_active=True,
                             maintenance=bool(entry.get("maintenance")))
    # the registry knows the GHCR repositories of the seeded apps; a push needs the seed's
    # registry credentials (settings.registry: {username, password}; password_env overrides)
    reg = settings.get("registry") or {}
    store.registry.username = reg.get("username") or "sandbox"
    store.registry.password = (os.environ.get(reg["password_env"]) if reg.get("password_env") else None) \
        or reg.get("password")
    for app in store.apps.values():
        for _kind, _name, comp in components(app["spec"]):
            image = comp.get("image") or {}
            if image.get("registry_type") == "GHCR" and image.get("registry") and image.get("repository"):
                store.registry.repositories.add(("%s/%s" % (image["registry"], image["repository"])).lower())
    fault_set.add(data.get("faults") or [])
    if faults:
        fault_set.add(faults)
    server = EmulatorServer((host, port), store, fault_set, limiter, quiet=quiet)
    overrides = {}
    if phase_seconds is not None:
        overrides["phase_seconds"] = phase_seconds
    if rate_limit:
        overrides["rate_limit"] = rate_limit
    if health_component:
        overrides["health_component"] = health_component
    if overrides:
        configure(server, overrides)
    return server
