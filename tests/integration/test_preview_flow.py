"""playbooks/preview.yml against the App Platform emulator, the whole sequence in one test:
a tachyon-api pull request's preview comes up with that SHA and production's workers and
db-migrate pins (health-verified), a second push updates the same app, no production secret
value reaches the preview, the manifest is not touched, destroy removes it, and reap removes an
expired preview while an app with a preview-like name but no marker is left alone."""
import json
import os
import time

from playbook_run import NEXT, RELEASE, playbook_run

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._platform import preview as pv
from ansible_collections.tachyon.infra.plugins.module_utils._spec.app_spec import load_spec
from ansible_collections.tachyon.infra.plugins.module_utils._release.registry import Resolver

REPO = "tachyonapp/tachyon-api"
IMAGES = {"tachyon-api": "ghcr.io/tachyonapp/tachyon-api", "tachyon-workers": "ghcr.io/tachyonapp/tachyon-workers",
          "tachyon-db-migrate": "ghcr.io/tachyonapp/tachyon-db-migrate"}
PUSH2 = "8e4d5f60718293a4b5c6d7e8f9012345678901ab"


def _production_manifest(run, resolver):
    """The scratch manifest with release 0.1.0 deployed to staging and production (by digest)."""
    manifest, _legacy, _text = mf.load(str(run.manifest))
    services = {name: {"sha": sha, "tag": sha, "image": IMAGES[name], "digest": resolver.resolve(IMAGES[name], sha)}
                for name, sha in RELEASE.items()}
    manifest = mf.record_deployment(manifest, "staging", "succeeded", deployment_id="stg-1", services=services,
                                    deployed_by="tester", health_verified_at="2026-12-01T08:00:00Z")
    manifest = mf.record_deployment(manifest, "production", "succeeded", deployment_id="prd-1", services=services,
                                    deployed_by="tester", approved_by="alice", health_verified_at="2026-12-01T09:00:00Z")
    run.manifest.write_text(mf.to_json_text(manifest))
    return services


def _apps(run):
    return {a["spec"]["name"]: a for a in run.client().apps.list(per_page=100)["apps"]}


def _component(spec, name):
    return [c for kind in ("services", "workers", "jobs") for c in spec.get(kind) or [] if c["name"] == name][0]


def test_preview_deploy_update_destroy_and_reap(tmp_path, monkeypatch):
    with playbook_run(tmp_path, monkeypatch) as run:
        resolver = Resolver(endpoints={"ghcr.io": run.emu.url + "/_registry"})
        pins = _production_manifest(run, resolver)
        manifest_before = run.manifest.read_bytes()
        preview_secret = "preview-only-%s" % os.urandom(6).hex()  # pragma: allowlist secret
        # production's (and staging's) secrets are in the run's environment (TACHYON_SECRET_<KEY>)
        # and in tachyon_secrets; the preview gets only its own
        base = {"preview_repo": REPO, "preview_pr": 42, "tachyon_secrets": dict(run.secrets),
                "tachyon_preview_secrets": {"CLERK_SECRET_KEY": preview_secret}}
        name = pv.preview_name(REPO, "42")

        # --check: says what it would do, creates nothing
        rc, out = run.playbook("preview.yml", extra=dict(base, preview_action="deploy", preview_sha=NEXT["tachyon-api"]),
                               args=["--check"])
        assert rc == 0, out
        assert "%s of %s#42 would be created" % (name, REPO) in out and name not in _apps(run)

        started = time.monotonic()
        rc, out = run.playbook("preview.yml", extra=dict(base, preview_action="deploy", preview_sha=NEXT["tachyon-api"]))
        first_seconds = time.monotonic() - started
        assert rc == 0, out
        app = _apps(run)[name]
        assert "PREVIEW_URL=%s" % app["live_url"] in out and "created" in out
        status, health = run.emu.health(app["id"])
        assert (status, health["status"], health["version"]) == (200, "healthy", NEXT["tachyon-api"])
        spec = app["active_deployment"]["spec"]
        assert _component(spec, "api")["image"]["digest"] == resolver.resolve(IMAGES["tachyon-api"], NEXT["tachyon-api"])
        assert _component(spec, "workers")["image"]["digest"] == pins["tachyon-workers"]["digest"]
        assert _component(spec, "db-migrate")["image"]["digest"] == pins["tachyon-db-migrate"]["digest"]
        assert pv.marker_of(app) == (REPO, "42")
        assert "domains" not in spec and "alerts" not in spec
        assert {_component(spec, c)["instance_size_slug"] for c in ("api", "workers", "db-migrate")} == {pv.SMALLEST_SIZE}
        dbs = {d["name"]: d for d in spec["databases"]}
        assert dbs["db"].get("production") is not True and "cluster_name" not in dbs["db"]
        assert dbs["redis"]["cluster_name"] == "tachyon-redis-preview"

        # the second push: the same app, a new deployment, the new SHA healthy
        rc, out = run.playbook("preview.yml", extra=dict(base, preview_action="deploy", preview_sha=PUSH2))
        assert rc == 0, out
        again = _apps(run)[name]
        assert again["id"] == app["id"] and "updated" in out
        assert again["active_deployment"]["id"] != app["active_deployment"]["id"]
        assert run.emu.health(app["id"])[1]["version"] == PUSH2

        # no production secret value reaches the preview (nor the output); its own one does
        for key, value in run.secrets.items():
            for component in (None, "api", "workers", "db-migrate"):
                assert not run.emu.secret_matches(app["id"], key, value, component), (key, component)
            assert value not in out
        assert run.emu.secret_matches(app["id"], "CLERK_SECRET_KEY", preview_secret, "api")
        assert preview_secret not in out
        # previews are recorded nowhere in the release manifest
        assert run.manifest.read_bytes() == manifest_before

        # destroy
        rc, out = run.playbook("preview.yml", extra=dict(base, preview_action="destroy"))
        assert rc == 0, out
        assert name not in _apps(run)

        # reap: an expired preview (as the hub made it) goes; an app with a preview's name but no
        # marker, and the staging app, stay
        client = run.client()
        expired, _notes = pv.preview_spec(load_spec(os.path.join(os.path.dirname(__file__), "..", "..", ".do",
                                                                 "app.staging.yml")),
                                          REPO, "7", clusters={"redis": "tachyon-redis-preview"})
        for comp in (_component(expired, c) for c in ("api", "workers", "db-migrate")):
            comp["image"]["tag"] = RELEASE["tachyon-api"]
        expired_id = client.apps.create({"spec": expired})["app"]["id"]
        lookalike = {"name": pv.preview_name(REPO, "8"), "region": "nyc", "services": [{
            "name": "api", "http_port": 4000, "instance_count": 1, "instance_size_slug": pv.SMALLEST_SIZE,
            "image": {"registry_type": "GHCR", "registry": "tachyonapp", "repository": "tachyon-api", "tag": "v1"}}],
            "envs": [{"key": "TACHYON_PREVIEW", "value": "tachyonapp/tachyon-api#9", "type": "GENERAL"}]}
        lookalike_id = client.apps.create({"spec": lookalike})["app"]["id"]
        time.sleep(1.1)  # created_at/updated_at are whole seconds
        rc, out = run.playbook("preview.yml", extra={"preview_action": "reap", "tachyon_preview_ttl_hours": 0.0002})
        assert rc == 0, out
        left = {a["id"] for a in _apps(run).values()}
        assert expired_id not in left
        assert lookalike_id in left and run.app_id in left
        assert "%s: older than" % expired["name"] in out
        assert "other app(s) are no previews and were not touched" in out
        print(json.dumps({"first_preview_seconds": round(first_seconds, 1)}))
