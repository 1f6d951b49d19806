"""Run the App Platform emulator from a pytest test.

    from emulator.testing import running_emulator

    def test_deploy():
        with running_emulator(phase_seconds=0.1) as emu:       # sandbox seed by default
            client = emu.client("staging")                     # pydo.Client over plain http
            app_id = emu.app_ids["staging"]
            app = client.apps.get(app_id)["app"]
            emu.set_faults([{"kind": "http_error", "method": "PUT", "path": "/v2/apps/*",
                             "status": 503, "count": 1}])
            ...
            assert emu.health(app_id) == (200, {...})

``running_emulator(seed=SANDBOX_SEED, phase_seconds=0.1, faults=None, rate_limit=None,
health_component=None, state_dir=None, subprocess=False)`` is a context manager yielding an
``Emulator``; it binds a free port on 127.0.0.1. ``subprocess=False`` (default) serves from a
thread of the test process (starts in milliseconds); ``subprocess=True`` runs
``python -m emulator serve`` in a child process so a test can ``emu.kill()`` it. ``seed``
is a path or a dict in the seed format (``emulator.bootstrap``); ``faults`` a list of faults
(``emulator.faults``); ``rate_limit`` ``{limit, burst, burst_window}``.

With ``phase_seconds=0.1`` a deployment goes PENDING_BUILD -> BUILDING -> PENDING_DEPLOY ->
DEPLOYING -> ACTIVE in 0.4 s.

``Emulator`` attributes and methods:

* ``url``: the API endpoint (``pydo.Client(token=..., endpoint=emu.url)``);
* ``tokens``: account name -> bearer token; ``app_ids``: account name -> seeded app id
  (the sandbox seed: accounts ``staging`` and ``production``, one app each);
* ``client(account_or_token, **pydo_kwargs)``: a ``pydo.Client`` for the emulator
  (see ``pydo_client``);
* ``live_url(app_id)``; ``health(app_id) -> (status, payload or None)``;
* ``set_faults(list) -> list`` (adds), ``clear_faults()``, ``configure(phase_seconds=...,
  rate_limit=..., health_component=...)``, ``state() -> dict`` (``GET /_emulator/state``),
  ``maintenance(app_id)``, ``autoscale(app_id, component, to, triggering_metric="cpu")``,
  ``secret_matches(app_id, key, value, component=None) -> bool``;
* ``kill()`` (subprocess mode: SIGKILL) and ``stop()``.

pydo over plain http: azure-core's bearer-token policy refuses non-https URLs unless the
request carries ``enforce_https=False``. ``pydo_client(endpoint, token)`` passes an
authentication policy that sets it for every request; production code can do the same
(or pass ``enforce_https=False`` per call) when its endpoint is ``http://127.0.0.1``.
"""
import contextlib
import json
import os
import subprocess as _subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from emulator import ROOT, ensure_import_path

SANDBOX_SEED = os.path.join(ROOT, "emulator", "sandbox-seed.yml")


def pydo_client(endpoint, token, **kwargs):
    """A pydo.Client for ``endpoint``; allows plain http (the emulator) for the bearer token."""
    import pydo
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy
    from pydo._patch import TokenCredentials

    class _PlainHttpBearer(BearerTokenCredentialPolicy):
        def on_request(self, request):
            if request.http_request.url.lower().startswith("http://"):
                request.context["enforce_https"] = False
            super().on_request(request)

    kwargs.setdefault("authentication_policy", _PlainHttpBearer(TokenCredentials(token)))
    return pydo.Client(token=token, endpoint=endpoint, **kwargs)


class Emulator:
    def __init__(self, url, seed_data, server=None, thread=None, process=None):
        self.url = url
        self._server, self._thread, self._process = server, thread, process
        accounts = seed_data.get("accounts") or []
        self.tokens = {a["name"]: (os.environ.get(a["token_env"]) if a.get("token_env") else None) or a["token"]
                       for a in accounts}
        self.app_ids = {}
        for app in seed_data.get("apps") or []:
            self.app_ids.setdefault(app["account"], app.get("id"))

    # ----------------------------------------------------------------- HTTP helpers
    def _admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            raise ValueError("%s %s: %s" % (method, path, err.read().decode(errors="replace")))

    def client(self, account, **kwargs):
        token = self.tokens.get(account, account)
        return pydo_client(self.url, token, **kwargs)

    def live_url(self, app_id):
        return "%s/_live/%s" % (self.url, app_id)

    def health(self, app_id):
        try:
            with urllib.request.urlopen(self.live_url(app_id) + "/health", timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            body = err.read()
            try:
                return err.code, json.loads(body)
            except ValueError:
                return err.code, None

    def set_faults(self, faults):
        return self._admin("POST", "/_emulator/faults", faults)["faults"]

    def clear_faults(self):
        self._admin("DELETE", "/_emulator/faults")

    def configure(self, **settings):
        return self._admin("POST", "/_emulator/config", settings)

    def state(self):
        return self._admin("GET", "/_emulator/state")

    def requests(self):
        """The request log: every /v2 request since the start (or clear_requests), in order,
        each {method, path, status, at}."""
        return self._admin("GET", "/_emulator/requests")["requests"]

    def clear_requests(self):
        self._admin("DELETE", "/_emulator/requests")

    def maintenance(self, app_id):
        """App Platform redeploys the app for maintenance; returns the new deployment."""
        return self._admin("POST", "/_emulator/maintenance", {"app_id": app_id})["deployment"]

    def autoscale(self, app_id, component, to, triggering_metric="cpu"):
        """App Platform autoscales ``component`` to ``to`` replicas on its own (an AUTOSCALING event)."""
        return self._admin("POST", "/_emulator/autoscale", {"app_id": app_id, "component": component, "to": to,
                                                            "triggering_metric": triggering_metric})["autoscaling"]

    def secret_matches(self, app_id, key, value, component=None):
        return self._admin("POST", "/_emulator/secret-check",
                           {"app_id": app_id, "key": key, "value": value, "component": component})["match"]

    # ----------------------------------------------------------------- lifecycle
    def kill(self):
        if not self._process:
            raise RuntimeError("kill() needs running_emulator(subprocess=True)")
        self._process.kill()
        self._process.wait(10)

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except _subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)


def _seed_data(seed):
    if isinstance(seed, dict):
        return seed
    import yaml
    with open(seed, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


@contextlib.contextmanager
def running_emulator(seed=SANDBOX_SEED, phase_seconds=0.1, faults=None, rate_limit=None,
                     health_component=None, state_dir=None, subprocess=False, startup_timeout=30):
    seed_data = _seed_data(seed)
    if not subprocess:
        ensure_import_path()
        from emulator.bootstrap import build_server
        server = build_server(seed=seed, port=0, state_dir=state_dir, phase_seconds=phase_seconds,
                              faults=faults, rate_limit=rate_limit, health_component=health_component)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="do-emulator", daemon=True)
        thread.start()
        emu = Emulator(server.url, seed_data, server=server, thread=thread)
        try:
            yield emu
        finally:
            emu.stop()
        return
    with tempfile.TemporaryDirectory(prefix="do-emulator-") as tmp:
        seed_path = seed
        if isinstance(seed, dict):
            seed_path = os.path.join(tmp, "seed.json")
            with open(seed_path, "w", encoding="utf-8") as handle:
                json.dump(seed, handle)
        ready = os.path.join(tmp, "ready")
        cmd = [sys.executable, "-m", "emulator", "serve", "--port", "0", "--seed", seed_path,
               "--ready-file", ready, "--phase-seconds", str(phase_seconds)]
        if state_dir:
            cmd += ["--state-dir", state_dir]
        if faults:
            faults_path = os.path.join(tmp, "faults.json")
            with open(faults_path, "w", encoding="utf-8") as handle:
                json.dump(faults, handle)
            cmd += ["--faults", faults_path]
        if rate_limit and "burst" in rate_limit:
            cmd += ["--burst-limit", str(rate_limit["burst"])]
        if rate_limit and "burst_window" in rate_limit:
            cmd += ["--burst-window", str(rate_limit["burst_window"])]
        if health_component:
            cmd += ["--health-component", health_component]
        stderr = open(os.path.join(tmp, "stderr"), "w+", encoding="utf-8")
        process = _subprocess.Popen(cmd, cwd=ROOT, stdout=_subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + startup_timeout
        while not os.path.exists(ready):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                stderr.seek(0)
                raise RuntimeError("emulator did not start: %s" % stderr.read().strip())
            time.sleep(0.02)
        with open(ready, encoding="utf-8") as handle:
            url = handle.read().strip()
        emu = Emulator(url, seed_data, process=process)
        try:
            yield emu
        finally:
            emu.stop()
            stderr.close()
