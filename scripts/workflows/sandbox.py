"""What `make workflows` (scripts/workflows.sh) does to the App Platform emulator around a workflow
run, through the emulator's DigitalOcean API only, as another client would:

    python3 sandbox.py ENDPOINT TOKEN preview REPO PR     an app carrying the preview marker
                                                           (TACHYON_PREVIEW=REPO#PR), as preview.yml makes
    python3 sandbox.py ENDPOINT TOKEN previews            the preview markers of the account's apps, JSON
    python3 sandbox.py ENDPOINT TOKEN set-env APP KEY VALUE  an out-of-band change of the api's env KEY
    python3 sandbox.py ENDPOINT TOKEN images APP          component -> image (digest or tag) of the active deployment
"""
import json
import os
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".collections"))  # make setup links the collection there
from ansible_collections.tachyon.infra.plugins.module_utils._platform.preview import (  # noqa: E402 pylint: disable=wrong-import-position
    MARKER_KEY as MARKER, marker_env, preview_name)


def call(endpoint, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(endpoint.rstrip("/") + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # nosec: the local emulator
        raw = resp.read()
    return json.loads(raw) if raw else {}


def apps(endpoint, token):
    return call(endpoint, token, "GET", "/v2/apps?per_page=200").get("apps") or []


def active_spec(endpoint, token, app_id):
    app = call(endpoint, token, "GET", "/v2/apps/%s" % app_id)["app"]
    return app, (app.get("active_deployment") or {}).get("spec") or app["spec"]


def wait_active(endpoint, token, app_id, spec):
    for _attempt in range(200):
        app, active = active_spec(endpoint, token, app_id)
        if active == spec or (app.get("active_deployment") or {}).get("phase") == "ACTIVE" and not app.get(
                "pending_deployment") and active.get("envs") == spec.get("envs"):
            return
        time.sleep(0.1)
    raise SystemExit("the emulator's deployment of %s never became active" % app_id)


def main(argv):
    endpoint, token, command, args = argv[0], argv[1], argv[2], argv[3:]
    if command == "preview":
        repo, pr = args
        base = next(a for a in apps(endpoint, token) if not any(
            e.get("key") == MARKER for e in a["spec"].get("envs") or []))
        spec = json.loads(json.dumps(base["spec"]))
        spec["name"] = preview_name(repo, pr)
        spec["envs"] = [e for e in spec.get("envs") or [] if e.get("key") != MARKER] + [marker_env(repo, pr)]
        print(call(endpoint, token, "POST", "/v2/apps", {"spec": spec})["app"]["id"])
    elif command == "previews":
        found = []
        for app in apps(endpoint, token):
            found += [e["value"] for e in app["spec"].get("envs") or [] if e.get("key") == MARKER]
        print(json.dumps(sorted(found)))
    elif command == "set-env":
        app_id, key, value = args
        _app, spec = active_spec(endpoint, token, app_id)
        spec = json.loads(json.dumps(spec))
        for comp in spec.get("services") or []:
            if comp["name"] == "api":
                envs = [e for e in comp.get("envs") or [] if e["key"] != key]
                comp["envs"] = envs + [{"key": key, "value": value, "scope": "RUN_TIME", "type": "GENERAL"}]
                if comp["image"].get("digest"):
                    comp["image"].pop("tag", None)  # App Platform refuses tag + digest
        call(endpoint, token, "PUT", "/v2/apps/%s" % app_id, {"spec": spec})
        wait_active(endpoint, token, app_id, spec)
    elif command == "images":
        (app_id,) = args
        _app, spec = active_spec(endpoint, token, app_id)
        out = {}
        for kind in ("services", "workers", "jobs"):
            for comp in spec.get(kind) or []:
                image = comp.get("image") or {}
                out[comp["name"]] = image.get("digest") or image.get("tag")
        print(json.dumps(out, sort_keys=True))
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
