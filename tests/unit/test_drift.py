"""plugins/module_utils/_platform/drift.py against recorded App Platform bodies (tests/recorded/fixtures)
and the repo's own staging spec as App Platform returns it (SECRETs as EV[...] ciphertext)."""
import copy
import json
import os

import pytest
import yaml

from ansible_collections.tachyon.infra.plugins.module_utils._spec import app_spec as aps
from ansible_collections.tachyon.infra.plugins.module_utils._platform import drift
from ansible_collections.tachyon.infra.plugins.module_utils._spec import diff as spec_diff

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "tests", "recorded", "fixtures")
CATALOG = [{"name": "tachyon-api", "component": "api"}, {"name": "tachyon-workers", "component": "workers"},
           {"name": "tachyon-db-migrate", "component": "db-migrate"}]
PINS = {"tachyon-api": "4a091424887308027935eb247097d4ffd77c8f99",
        "tachyon-workers": "2f9e050447ffe25d88c4035db2d4bb3f9987b7ff",
        "tachyon-db-migrate": "9252ea24498a84c0fdcdc75be8ea8182caebb176"}
TOKEN = "dop_v1_" + "ab" * 32


def recorded(name):
    with open(os.path.join(FIXTURES, name + ".json")) as handle:
        return json.load(handle)["body"]


def record(dep_id="dep-1", services=None, outcome="succeeded", **extra):
    entry = {"environment": "staging", "outcome": outcome, "version": "0.1.0", "at": "2026-05-01T00:00:00Z",
             "deployment_id": dep_id, "deployed_by": "tester", "approved_by": None, "rolled_back_to": None,
             "services": services or {k: {"sha": v, "tag": v, "digest": None, "image": "x"} for k, v in PINS.items()}}
    entry.update(extra)
    return {"version": "0.1.0", "environments": {"staging": {}, "production": {}}, "history": [entry]}


def secrets_for(spec):
    return {key: "value-of-%s" % key for _c, key, has in spec_diff.secret_envs(spec) if not has}


def repo_spec():
    images = drift.images_for(drift.recorded_state(record(), "staging"), CATALOG)
    return aps.render_file(os.path.join(ROOT, ".do", "app.staging.yml"), images)


def as_deployed(spec, secrets):
    """What GET /v2/apps/{id} returns after tachyon deployed ``spec``: the fingerprint env added,
    every SECRET value as EV[...] ciphertext (the OpenAPI's and DESIGN's App Platform)."""
    live = spec_diff.inject_secrets(spec, secrets)
    spec_diff.set_fingerprint(live, spec_diff.fingerprint(live, TOKEN))
    for _comp, envs in spec_diff._iter_env_lists(live):
        for env in envs:
            if env.get("type") == "SECRET":
                env["value"] = "EV[1:%s:%s]" % (os.urandom(6).hex(), os.urandom(16).hex())
    return live


def app_with(live_spec, dep_id="dep-1", **dep):
    active = dict({"id": dep_id, "spec": live_spec, "cause": "manual", "phase": "ACTIVE"}, **dep)
    return {"id": "app-1", "spec": copy.deepcopy(live_spec), "active_deployment": active,
            "live_url": "https://tachyon-staging.ondigitalocean.app?token=abc"}


def run(live_spec, secrets=None, rec=None, **dep):
    spec = repo_spec()
    rec = drift.recorded_state(rec or record(), "staging")
    return drift.compare(app_with(live_spec, **dep), spec, rec, CATALOG, secrets=secrets, token=TOKEN,
                         environment="staging")


def test_freshly_deployed_app_is_in_sync_and_secrets_compared_by_fingerprint():
    spec = repo_spec()
    secrets = secrets_for(spec)
    report = run(as_deployed(spec, secrets), secrets=secrets)
    assert report["status"] == "in_sync", report["findings"]
    assert any("fingerprint matches" in n for n in report["notes"])
    assert "token=abc" not in json.dumps(report)


def test_without_secret_values_the_report_says_they_were_not_compared():
    spec = repo_spec()
    report = run(as_deployed(spec, secrets_for(spec)))
    assert report["status"] == "in_sync"
    assert any("not compared" in n for n in report["notes"])


def test_openapi_defaults_and_empty_values_filled_in_by_the_platform_are_not_drift():
    spec = repo_spec()
    secrets = secrets_for(spec)
    live = as_deployed(spec, secrets)
    live["disable_edge_cache"] = False                      # app_spec.yml default
    for comp in live["services"] + live.get("workers", []) + live.get("jobs", []):
        comp.setdefault("instance_count", 1)                # app_component_instance_base.yml
        comp["source_dir"] = ""                             # empty: godo omits it
        for env in comp.get("envs") or []:
            env.setdefault("scope", "RUN_AND_BUILD_TIME")  # app_variable_definition.yml
            env.setdefault("type", "GENERAL")
    for job in live.get("jobs", []):
        job.setdefault("kind", "UNSPECIFIED")
    live["services"].reverse()                              # order of a named list
    report = run(live, secrets=secrets)
    assert report["status"] == "in_sync", report["findings"]


def test_recorded_body_against_a_spec_that_leaves_the_defaults_out():
    """deployment_active_image.json (real doctl output) carries tag latest and instance_count 1,
    the OpenAPI defaults; a repo spec that does not set them is in sync with it."""
    live = recorded("deployment_active_image")["deployment"]["spec"]
    mine = copy.deepcopy(live)
    del mine["services"][0]["image"]["tag"]
    del mine["services"][0]["instance_count"]
    assert drift.spec_findings(mine, live) == []
    mine["services"][0]["http_port"] = 8081
    assert drift.spec_findings(mine, live) == [
        {"kind": "spec", "change": "changed", "path": "services[name=web].http_port", "live": 8080, "repo": 8081}]


def test_env_changed_out_of_band_is_reported_once_with_its_path():
    spec = repo_spec()
    secrets = secrets_for(spec)
    live = as_deployed(spec, secrets)
    env = [e for e in live["services"][0]["envs"] if e["key"] == "LOG_LEVEL"][0]
    env["value"] = "debug"
    report = run(live, secrets=secrets)
    assert report["status"] == "drifted"
    assert report["findings"] == [{"kind": "spec", "change": "changed",
                                   "path": "services[name=api].envs[key=LOG_LEVEL].value",
                                   "live": "debug", "repo": "info"}]
    text = drift.text_report(report)
    assert "LOG_LEVEL" in text and "DRIFTED, 1 finding" in text


def test_secret_added_or_changed_is_named_never_shown():
    spec = repo_spec()
    secrets = secrets_for(spec)
    live = as_deployed(spec, secrets)
    live["services"][0]["envs"].append({"key": "HOTFIX_TOKEN", "type": "SECRET", "value": "EV[1:aaa:bbb]"})
    report = run(live, secrets=dict(secrets, CLERK_SECRET_KEY="rotated-elsewhere"))
    kinds = sorted((f["kind"], f.get("path", "")) for f in report["findings"])
    assert kinds == [("secrets", ""), ("spec", "services[name=api].envs[key=HOTFIX_TOKEN]")]
    dumped = json.dumps(report) + drift.text_report(report)
    assert "EV[1:" not in dumped and "rotated-elsewhere" not in dumped
    assert not any(v in dumped for v in secrets.values())
    assert "REDACTED" in dumped


def test_image_changed_out_of_band_is_an_image_finding_not_also_a_spec_one():
    spec = repo_spec()
    secrets = secrets_for(spec)
    live = as_deployed(spec, secrets)
    live["services"][0]["image"]["tag"] = "a" * 40
    report = run(live, secrets=secrets)
    assert report["findings"] == [{"kind": "image", "component": "api", "service": "tachyon-api",
                                   "recorded": "tag " + PINS["tachyon-api"], "running": "tag " + "a" * 40}]


def test_deployment_by_another_client_names_its_cause():
    spec = repo_spec()
    secrets = secrets_for(spec)
    cause = recorded("deployment_manual_cause_details")["deployment"]
    report = run(as_deployed(spec, secrets), secrets=secrets, dep_id="dep-2",
                 cause=cause["cause"], cause_details=cause.get("cause_details"))
    assert [f["kind"] for f in report["findings"]] == ["deployment"]
    assert report["findings"][0]["active"] == "dep-2" and report["findings"][0]["recorded"] == "dep-1"
    assert cause["cause"] in drift.describe(report["findings"][0])


def test_after_a_recorded_rollback_the_clone_of_the_target_is_in_sync():
    spec = repo_spec()
    secrets = secrets_for(spec)
    rec = record(dep_id="dep-failed", outcome="rolled_back", rolled_back_to="dep-good")
    report = run(as_deployed(spec, secrets), secrets=secrets, rec=rec, dep_id="dep-rb", cloned_from="dep-good")
    assert report["status"] == "in_sync", report["findings"]
    report = run(as_deployed(spec, secrets), secrets=secrets, rec=rec, dep_id="dep-other")
    assert report["status"] == "drifted"


def test_failed_attempt_without_rollback_keeps_the_last_good_record():
    rec = record()
    rec["history"].append({"environment": "staging", "outcome": "failed", "deployment_id": "dep-bad",
                           "services": None, "version": "0.1.0", "rolled_back_to": None})
    assert drift.recorded_state(rec, "staging")["deployment_id"] == "dep-1"
    assert drift.recorded_state(rec, "production") is None


def test_fix_command_redeploys_the_recorded_pins():
    rec = drift.recorded_state(record(), "staging")
    cmd = drift.fix_command("staging", rec, "inventories/sandbox", "staging")
    assert cmd.startswith("ansible-playbook playbooks/deploy.yml -i inventories/sandbox -l staging -e ")
    assert json.loads(cmd.split(" -e ", 1)[1].strip("'")) == {"tachyon_shas": PINS}
    prod = dict(rec, version="0.1.0")
    assert "tachyon_version=0.1.0" in drift.fix_command("production", prod, "inventories/production",
                                                        manifest_version="0.1.0")
    assert "rollback.yml" in drift.fix_command("production", prod, "inventories/production", manifest_version="0.2.0")


@pytest.mark.parametrize("name", ["app_get_without_pending_deployment", "app_get_with_pending_deployment"])
def test_recorded_app_against_its_own_spec_is_in_sync(name):
    app = recorded(name)["app"]
    spec = yaml.safe_load(yaml.safe_dump(app["active_deployment"]["spec"] if app.get("active_deployment")
                                         else app["spec"]))
    assert drift.spec_findings(spec, (app.get("active_deployment") or app)["spec"]) == []


def test_job_summary_lists_each_finding(tmp_path):
    import subprocess
    spec = repo_spec()
    secrets = secrets_for(spec)
    live = as_deployed(spec, secrets)
    live["services"][0]["image"]["tag"] = "a" * 40
    live["services"][0]["envs"][0]["value"] = "staging|debug"
    report = run(live, secrets=secrets, dep_id="dep-2")
    path = tmp_path / "drift.json"
    path.write_text(json.dumps([report]))
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "drift-summary.sh"), str(path)],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("### Drift report: staging - **DRIFTED**")
    assert "- `image` `api` runs tag %s, pinned tag %s" % ("a" * 40, PINS["tachyon-api"]) in out
    assert "- `deployment`  active dep-2 (manual), recorded dep-1" in out
    assert "staging\\|debug" in out
    assert not any(v in out for v in secrets.values())
    path.write_text("")
    out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "drift-summary.sh"), str(path)],
                         capture_output=True, text=True, check=True).stdout
    assert "No report was made" in out


def test_drift_sh_refuses_partial_runs_and_a_missing_inventory_with_exit_1(tmp_path):
    """Exit 2 means drift and nothing else: a refused option is an error (1), reason last."""
    import subprocess
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    for args, reason in (
            (["-i", "inventories/staging", "--tags", "x"], "drift.sh: error: --tags would run only part of "
                                                           "playbooks/drift.yml"),
            (["-i", "inventories/staging", "-l", "staging", "stray"], "drift.sh: error: unrecognized arguments: stray"),
            (["-e", "format=json"], "drift.sh: error: no inventory")):
        proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "drift.sh")] + args, cwd=str(tmp_path), env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 1, proc
        assert proc.stderr.rstrip("\n").splitlines()[-1].startswith(reason), proc.stderr
