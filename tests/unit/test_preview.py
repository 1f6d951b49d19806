"""Previews: names within App Platform's limits, the hub's marker, the preview App Spec, the
reaper's decisions (module_utils/_platform/preview.py), and tachyon.infra.app_preview against an
in-process emulator (requests recorded: no production secret value is ever sent)."""
import copy
import datetime
import json
import os

import pytest
import requests

from ansible_collections.tachyon.infra.plugins.module_utils._platform import preview as pv
from ansible_collections.tachyon.infra.plugins.module_utils._spec.app_spec import load_spec
from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import make_client
from ansible_collections.tachyon.infra.plugins.modules import app_preview
from emulator.testing import running_emulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STAGING = os.path.join(ROOT, ".do", "app.staging.yml")
CATALOG = [{"name": "tachyon-api", "component": "api"}, {"name": "tachyon-workers", "component": "workers"},
           {"name": "tachyon-db-migrate", "component": "db-migrate"}]
D = {n: "sha256:" + c * 64 for n, c in (("api", "a"), ("workers", "b"), ("db", "c"), ("pr", "d"))}
PINS = {"tachyon-api": {"sha": "1" * 40, "tag": "1" * 40, "digest": D["api"]},
        "tachyon-workers": {"sha": "2" * 40, "tag": "2" * 40, "digest": D["workers"]},
        "tachyon-db-migrate": {"sha": "3" * 40, "tag": "3" * 40, "digest": D["db"]}}
LONG_REPO = "tachyonapp/tachyon-api-gateway-for-the-payments-and-billing-platform"
LONG_BRANCH = "feature/JIRA-12345-make-the-checkout-flow-handle-three-d-secure-v2"


# ---------------------------------------------------------------------------------- names
@pytest.mark.parametrize("repo, pr", [
    ("tachyonapp/tachyon-api", "42"), ("tachyonapp/tachyon-api", "9999999"), ("tachyonapp/tachyon-db", "1"),
    (LONG_REPO, "1234"), (LONG_REPO, LONG_BRANCH), ("tachyonapp/tachyon-api", LONG_BRANCH),
    ("org/9lives", "3"), ("org/UPPER_case.repo", "dependabot/npm_and_yarn/express-4.19.2"),
])
def test_names_fit_app_platforms_limit_and_pattern_and_are_stable(repo, pr):
    name = pv.preview_name(repo, pr)
    assert 2 <= len(name) <= 32 and pv.NAME_RE.match(name), name
    assert name == pv.preview_name(repo, pr)
    assert name.endswith("-" + __import__("hashlib").sha256(("%s#%s" % (repo, pr)).encode()).hexdigest()[:6])


def test_names_are_readable_and_tell_long_similar_refs_apart():
    assert pv.preview_name("tachyonapp/tachyon-api", "42").startswith("tachyon-api-pr42-")
    assert pv.preview_name(LONG_REPO, "1234").split("-")[-2] == "pr1234"
    assert pv.preview_name(LONG_REPO, LONG_BRANCH + "-a") != pv.preview_name(LONG_REPO, LONG_BRANCH + "-b")
    assert pv.preview_name("a/tachyon-api", "1") != pv.preview_name("b/tachyon-api", "1")
    with pytest.raises(pv.PreviewError):
        pv.preview_name("", "1")
    with pytest.raises(pv.PreviewError):
        pv.preview_name("tachyonapp/tachyon-api", "bad ref with spaces")


# ---------------------------------------------------------------------------------- marker
def _marked(repo="tachyonapp/tachyon-api", pr="42", **env):
    marker = dict(pv.marker_env(repo, pr), **env)
    return {"spec": {"name": pv.preview_name(repo, pr), "envs": [{"key": "APP_ENV", "value": "x"}, marker]}}


def test_marker_needs_the_env_and_the_name_the_hub_derives_from_it():
    assert pv.marker_of(_marked()) == ("tachyonapp/tachyon-api", "42")
    assert pv.marker_of({"spec": {"name": pv.preview_name("tachyonapp/tachyon-api", "42")}}) is None
    copied = _marked()
    copied["spec"]["name"] = "tachyon-api-pr42-000000"  # a preview-like name, marker of another
    assert pv.marker_of(copied) is None
    assert pv.marker_of(_marked(type="SECRET")) is None
    assert pv.marker_of(_marked(value="not a marker")) is None
    twice = _marked()
    twice["spec"]["envs"].append(pv.marker_env("tachyonapp/tachyon-api", "42"))
    assert pv.marker_of(twice) is None


# ---------------------------------------------------------------------------------- spec
def _base():
    spec = load_spec(STAGING)
    spec["domains"] = [{"domain": "staging.tachyon.app", "type": "PRIMARY"}]
    spec["alerts"] = [{"rule": "DEPLOYMENT_FAILED"}]
    spec["services"][0]["alerts"] = [{"rule": "CPU_UTILIZATION", "value": 80}]
    spec["services"][0]["autoscaling"] = {"min_instance_count": 2, "max_instance_count": 4}
    spec["services"][0]["instance_count"] = 3
    spec["workers"][0]["envs"].append({"key": "LEAKED", "type": "SECRET", "value": "staging-literal-value"})
    return spec


def test_preview_spec_is_small_marked_without_domains_alerts_or_staging_secrets():
    spec, notes = pv.preview_spec(_base(), "tachyonapp/tachyon-api", "42",
                                  secrets={"CLERK_SECRET_KEY": "preview-clerk", "NOT_USED": "x"},  # pragma: allowlist secret
                                  clusters={"redis": "tachyon-redis-preview"})
    assert spec["name"] == pv.preview_name("tachyonapp/tachyon-api", "42")
    assert pv.marker_of(spec) == ("tachyonapp/tachyon-api", "42")
    assert "domains" not in spec and "alerts" not in spec and "alerts" not in spec["services"][0]
    for kind in ("services", "workers", "jobs"):
        for comp in spec[kind]:
            assert (comp["instance_size_slug"], comp["instance_count"]) == ("apps-s-1vcpu-0.5gb", 1)
            assert "autoscaling" not in comp
    db = {d["name"]: d for d in spec["databases"]}
    assert db["db"] == {"name": "db", "engine": "PG", "version": "16", "production": False}
    assert db["redis"]["cluster_name"] == "tachyon-redis-preview" and db["redis"]["production"] is True
    envs = {e["key"]: e for c in spec["services"] + spec["workers"] + spec["jobs"] for e in c.get("envs") or []}
    assert envs["CLERK_SECRET_KEY"]["value"] == "preview-clerk"
    assert envs["REDIS_PASSWORD"]["value"] == "${redis.PASSWORD}"  # a binding stays
    assert "LEAKED" not in envs and "STRIPE_SECRET_KEY" not in envs  # no preview value: left out
    assert "staging-literal-value" not in json.dumps(spec)
    assert any("NOT_USED" in n for n in notes) and "dropped domains" in notes


def test_databases_that_cannot_be_dev_ones_need_a_preview_cluster_never_a_shared_one():
    with pytest.raises(pv.PreviewError, match="redis .engine REDIS. cannot be a dev database.*tachyon_preview_clusters.redis"):
        pv.preview_spec(_base(), "r/tachyon-api", "1")
    with pytest.raises(pv.PreviewError, match="never share"):
        pv.preview_spec(_base(), "r/tachyon-api", "1", clusters={"redis": "tachyon-redis-staging"})
    with pytest.raises(pv.PreviewError, match="never share"):
        pv.preview_spec(_base(), "r/tachyon-api", "1", clusters={"redis": "tachyon-redis-prod"},
                        forbidden_clusters=["tachyon-redis-prod"])


def test_images_are_the_prs_for_its_service_and_productions_pins_for_the_rest():
    images, summary = pv.preview_images(PINS, CATALOG, "tachyon-api", "f" * 40, D["pr"])
    assert images == {"api": {"digest": D["pr"]}, "workers": {"digest": D["workers"]}, "db-migrate": {"digest": D["db"]}}
    assert summary[0].endswith("(pull request)") and all(s.endswith("(production)") for s in summary[1:])
    by_tag = copy.deepcopy(PINS)
    by_tag["tachyon-workers"]["digest"] = None
    assert pv.preview_images(by_tag, CATALOG, "tachyon-db-migrate", "f" * 40, D["pr"])[0]["workers"] == {"tag": "2" * 40}
    with pytest.raises(pv.PreviewError, match="records no production deployment"):
        pv.preview_images(None, CATALOG, "tachyon-api", "f" * 40, D["pr"])
    with pytest.raises(pv.PreviewError, match="no sha256 digest"):
        pv.preview_images(PINS, CATALOG, "tachyon-api", "f" * 40, "")
    with pytest.raises(pv.PreviewError, match="not in the service catalog"):
        pv.preview_images(PINS, CATALOG, "tachyon-frontend", "f" * 40, D["pr"])


# ---------------------------------------------------------------------------------- reaper
def test_reap_decisions_by_ttl_closed_and_open_lists_and_never_other_apps():
    now = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)

    def app(pr, hours_ago, marked=True, name=None):
        item = _marked(pr=pr) if marked else {"spec": {"name": name or pv.preview_name("tachyonapp/tachyon-api", pr)}}
        item.update(id="id-%s" % pr, updated_at=(now - datetime.timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        return item

    apps = [app("1", 100), app("2", 1), app("3", 1), app("4", 1), app("5", 500, marked=False), app("6", 1)]
    reap, keep, others = pv.reap_decisions(apps, now, 72, closed=["tachyon-api#2"], open_prs=None)
    assert [(r["id"], r["reason"].split(" (")[0]) for r in reap] == [("id-1", "older than 72h"),
                                                                     ("id-2", "pull request closed")]
    assert [k["id"] for k in keep] == ["id-3", "id-4", "id-6"] and others == 1
    reap, keep, _others = pv.reap_decisions(apps, now, 72, open_prs=["tachyonapp/tachyon-api#3", {"repo": "tachyon-api", "pr": 4}])
    assert [r["id"] for r in reap] == ["id-1", "id-2", "id-6"] and [k["id"] for k in keep] == ["id-3", "id-4"]


# ---------------------------------------------------------------------------------- module
class Exit(Exception):
    pass


class Module(object):
    def __init__(self, params, check_mode=False):
        self.params = {k: v.get("default") for k, v in app_preview.argument_spec().items()}
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = True
        self.no_log_values = set()
        self.result = None

    def exit_json(self, **kw):
        self.result = kw
        raise Exit()

    def fail_json(self, **kw):
        self.result = dict(kw, failed=True)
        raise Exit()


@pytest.fixture
def emu_client(monkeypatch):
    sent = []
    original = requests.Session.send

    def recording(session, request, **kw):
        sent.append((request.method, request.url, request.body or b""))
        return original(session, request, **kw)

    monkeypatch.setattr(requests.Session, "send", recording)
    with running_emulator(phase_seconds=0.02) as emu:
        token = emu.tokens["staging"]
        yield emu, make_client(token, emu.url), token, sent


def _run(client, params):
    module = Module(params)
    with pytest.raises(Exit):
        getattr(app_preview.Previews(module, client), module.params["state"])()
    return module.result


def test_module_present_absent_never_sends_a_production_secret_and_leaves_non_previews_alone(emu_client, monkeypatch):
    emu, client, token, sent = emu_client
    production = {"CLERK_SECRET_KEY": "prod-clerk-5f1e", "STRIPE_SECRET_KEY": "prod-stripe-9a3c"}  # pragma: allowlist secret
    for key, value in production.items():
        monkeypatch.setenv("TACHYON_SECRET_" + key, value)
    params = dict(state="present", token=token, api_endpoint=emu.url, repo="tachyonapp/tachyon-api", pr="5",
                  spec_path=STAGING, pins=PINS, services=CATALOG, service="tachyon-api", sha="f" * 40,
                  digest="sha256:" + "e" * 64, secrets={"CLERK_SECRET_KEY": "preview-clerk-77"},  # pragma: allowlist secret
                  clusters={"redis": "tachyon-redis-preview"}, poll_interval=0.1, timeout=30)
    check = Module(params, check_mode=True)
    with pytest.raises(Exit):
        app_preview.Previews(check, client).present()
    assert check.result["changed"] and check.result["msg"].startswith("would create") and "REDACTED" in check.result["diff"]["after"]
    result = _run(client, params)
    assert result["created"] and result["changed"] and result["live_url"], result
    app_id = result["app_id"]
    assert emu.secret_matches(app_id, "CLERK_SECRET_KEY", "preview-clerk-77", "api")
    again = _run(client, params)
    assert not again["changed"] and again["app_id"] == app_id  # the same spec: nothing deployed
    bodies = b"".join(body if isinstance(body, bytes) else body.encode() for _m, _u, body in sent)
    assert b"preview-clerk-77" in bodies  # its own value is sent (in the spec, to the API)
    for value in production.values():
        assert value.encode() not in bodies and value not in json.dumps(result)
    assert "preview-clerk-77" not in json.dumps(result)

    # an app holding a preview's name without the marker is never touched
    name = pv.preview_name("tachyonapp/tachyon-api", "6")
    other = client.apps.create({"spec": {"name": name, "region": "nyc", "services": [{
        "name": "api", "http_port": 4000, "instance_count": 1, "instance_size_slug": pv.SMALLEST_SIZE,
        "image": {"registry_type": "GHCR", "registry": "tachyonapp", "repository": "tachyon-api", "tag": "v1"}}]}})["app"]
    for state in ("present", "absent"):
        refused = _run(client, dict(params, state=state, pr="6"))
        assert refused["failed"] and "it is not the hub's preview" in refused["msg"] and refused["app_id"] == other["id"]
    assert client.apps.get(other["id"])["app"]["spec"]["name"] == name

    gone = _run(client, dict(params, state="absent"))
    assert gone["changed"] and gone["app_id"] == app_id
    assert not _run(client, dict(params, state="absent"))["changed"]
    assert ("DELETE", emu.url + "/v2/apps/" + app_id) in [(m, u) for m, u, _b in sent]


def test_module_refuses_clearly_and_deploys_nothing(emu_client):
    emu, client, token, sent = emu_client
    params = dict(state="present", token=token, api_endpoint=emu.url, repo="tachyonapp/tachyon-api", pr="5",
                  spec_path=STAGING, pins=None, services=CATALOG, service="tachyon-api", sha="f" * 40,
                  digest="sha256:" + "e" * 64)
    result = _run(client, params)
    assert result["failed"] and "records no production deployment" in result["msg"] and "Nothing was deployed" in result["msg"]
    result = _run(client, dict(params, pins=PINS))
    assert result["failed"] and "tachyon_preview_clusters.redis" in result["msg"]
    assert not [u for m, u, _b in sent if m in ("POST", "PUT", "DELETE")]


def test_module_follows_its_own_running_deployment_and_reaps_in_check_mode_first(emu_client):
    emu, client, token, _sent = emu_client
    emu.configure(phase_seconds=0.5)
    params = dict(state="present", token=token, api_endpoint=emu.url, repo="tachyonapp/tachyon-workers", pr="9",
                  spec_path=STAGING, pins=PINS, services=CATALOG, service="tachyon-workers", sha="f" * 40,
                  digest="sha256:" + "e" * 64, clusters={"redis": "tachyon-redis-preview"}, poll_interval=0.1,
                  timeout=30, wait=False)
    started = _run(client, params)
    assert started["created"] and started["deployment_id"]
    # a rerun while that deployment runs follows it instead of deploying again
    module = Module(dict(params, wait=True))
    with pytest.raises(Exit):
        app_preview.Previews(module, client).present()
    assert module.result["deployment_id"] == started["deployment_id"], module.result
    assert any("following deployment %s" % started["deployment_id"] in line for line in module.result["progress_lines"])
    assert len(client.apps.list_deployments(started["app_id"])["deployments"]) == 1

    reap = dict(state="reaped", token=token, api_endpoint=emu.url, ttl_hours=72,
                closed=["tachyonapp/tachyon-workers#9"])
    check = Module(reap, check_mode=True)
    with pytest.raises(Exit):
        app_preview.Previews(check, client).reaped()
    assert [r["name"] for r in check.result["reaped"]] == [started["name"]] and check.result["other_apps"] == 1
    assert client.apps.get(started["app_id"])["app"]["id"] == started["app_id"]  # check mode deleted nothing
    done = _run(client, reap)
    assert done["changed"] and [r["reason"] for r in done["reaped"]] == ["pull request closed"]
    assert client.apps.get(started["app_id"])["id"] == "not_found"


def test_reaper_takes_a_preview_deleted_meanwhile_as_gone():
    marked = dict(_marked(pr="3"), id="gone-1", updated_at="2026-01-01T00:00:00Z")

    class Apps(object):
        def list(self, page, per_page):
            return {"apps": [marked], "links": {"pages": {}}}

        def delete(self, app_id):
            return {"id": "not_found", "message": "The resource you requested could not be found."}

    class Client(object):
        apps = Apps()

    module = Module({"state": "reaped", "ttl_hours": 1})
    with pytest.raises(Exit):
        app_preview.Previews(module, Client(), now=lambda: datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)).reaped()
    assert module.result["changed"] and [r["id"] for r in module.result["reaped"]] == ["gone-1"]
    assert not module.result.get("failed")
