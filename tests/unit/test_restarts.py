"""Rolling restarts (issue 30): component names from the service catalog only, the restart plan
and its refusals (_platform/restart.py), the manifest's restarts kept apart from the release
history (_release/restarts.py), and the readers that take a restarted deployment as the
recorded one (drift, the staging proof of a promotion)."""
import os
import sys

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._plan import gates
from ansible_collections.tachyon.infra.plugins.module_utils._platform import drift
from ansible_collections.tachyon.infra.plugins.module_utils._platform import restart
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import restarts
from ansible_collections.tachyon.infra.plugins.module_utils._release.manifest_task import execute, ARGUMENT_SPEC
from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)
CATALOG = [{"name": "tachyon-api", "component": "api"}, {"name": "tachyon-workers", "component": "workers"},
           {"name": "tachyon-db-migrate", "component": "db-migrate"}]
DIGEST = "sha256:" + "a" * 64


def _app(**extra):
    spec = {"name": "tachyon-staging",
            "services": [{"name": "api", "image": {"registry_type": "GHCR", "repository": "tachyon-api", "digest": DIGEST}}],
            "workers": [{"name": "workers", "image": {"registry_type": "GHCR", "repository": "tachyon-workers",
                                                      "tag": "2f9e050"}}],
            "jobs": [{"name": "db-migrate", "kind": "PRE_DEPLOY", "image": {"registry_type": "GHCR", "tag": "9252ea2"}}]}
    app = {"id": "app", "spec": spec, "active_deployment": {"id": "dep-1", "phase": "ACTIVE", "spec": spec}}
    app.update(extra)
    return app


@pytest.mark.parametrize("given,expect", [
    ("api,workers", ["api", "workers"]),
    (["workers", "api", "api"], ["api", "workers"]),  # catalog order, once each
    (" api ", ["api"]),
    ("all", ["all"]),
])
def test_components_come_from_the_catalog(given, expect):
    assert restart.requested_components(given, CATALOG) == expect


@pytest.mark.parametrize("given,error", [
    ("api,nope", "nope not in the service catalog (playbooks/group_vars/all/services.yml tachyon_services); "
                 "its components are: api, workers, db-migrate"),
    ("tachyon-api", "tachyon-api not in the service catalog"),  # a service name is not a component name
    ("", "is not a component name"),
    ([], "give the components to restart"),
    ("API", "is not a component name (lower-case"),
    ("{{ lookup('env', 'HOME') }}", "is not a component name"),
    ("all,api", "'all' restarts every component; give it alone, not with api"),
    ([["api"]], "is not a component name"),
])
def test_bad_component_names_are_refused_saying_what_to_give(given, error):
    with pytest.raises(restart.RestartError) as err:
        restart.requested_components(given, CATALOG)
    assert error in str(err.value)


def test_the_plan_keeps_the_images_and_refuses_saying_why():
    plan = restart.plan(_app(), ["all"], CATALOG)
    assert plan["decision"] == "restart" and plan["components"] == ["api", "workers"]  # the job does not run
    assert plan["images"] == {"api": DIGEST, "workers": "2f9e050"} and plan["deployment_id"] == "dep-1"
    assert plan["table"][0] == "restart plan: RESTART"
    diff = restart.diff(plan)
    assert diff["before"].split("\n")[1:] == diff["after"].split("\n")[1:]  # same images after
    refused = [
        (restart.plan(_app(), ["db-migrate"], CATALOG), "db-migrate not running components of the app"),
        (restart.plan(_app(pinned_deployment={"id": "dep-0"}), ["api"], CATALOG), "a rollback pins the app to deployment dep-0"),
        (restart.plan(_app(in_progress_deployment={"id": "dep-2", "phase": "BUILDING"}), ["api"], CATALOG),
         "is in progress: a restart now would supersede it"),
        (restart.plan({"id": "app", "spec": _app()["spec"]}, ["api"], CATALOG), "the app has no active deployment"),
    ]
    for plan, why in refused:
        assert plan["decision"] == "refused" and why in plan["why"], plan
        assert plan["table"][0].startswith("restart plan: REFUSED: ")


def test_image_changes_are_named():
    assert restart.image_changes({"api": "a", "workers": "b"}, {"api": "a", "workers": "c"}, ["api"]) == ["workers: b -> c"]
    assert restart.image_changes({"api": "a"}, {"api": "a"}, ["api"]) == []


def test_restarts_are_recorded_apart_and_never_counted_as_deployments():
    base = mf.new_manifest()
    base = mf.create_release(base, "1.0.0", {"tachyon-api": "4a09142", "tachyon-workers": "2f9e050",
                                             "tachyon-db-migrate": "9252ea2"},
                             **catalog.release_args(known_services=["tachyon-api", "tachyon-workers", "tachyon-db-migrate"]))
    base = mf.record_deployment(base, "staging", "succeeded", deployment_id="dep-1",
                                services={"tachyon-api": {"sha": "4a09142"}, "tachyon-workers": {"sha": "2f9e050"},
                                          "tachyon-db-migrate": {"sha": "9252ea2"}},
                                deployed_by="alice", at="2026-12-01T10:00:00Z")
    after = restarts.record(base, "staging", "succeeded", ["api", "workers"], deployment_id="dep-2",
                            restart_of="dep-1", restarted_by="bob", at="2026-12-01T11:00:00Z")
    after = restarts.record(after, "staging", "succeeded", ["api"], deployment_id="dep-3", restart_of="dep-2",
                            restarted_by="bob", at="2026-12-01T12:00:00Z")
    failed = restarts.record(after, "staging", "failed", ["workers"], deployment_id="dep-4", restart_of="dep-3",
                             message="workers: UNHEALTHY", at="2026-12-01T13:00:00Z")
    assert restarts.record(failed, "staging", "failed", ["workers"], deployment_id="dep-4", restart_of="dep-3") is failed
    assert failed["history"] == base["history"] and len(failed["restarts"]) == 3
    mf.validate(failed, "test")
    until = "2026-12-02T00:00:00Z"
    figures = metrics.environment_metrics(failed, "staging", *[metrics.parse_utc(t) for t in ("2026-11-01T00:00:00Z", until)])
    plain = metrics.environment_metrics(base, "staging", *[metrics.parse_utc(t) for t in ("2026-11-01T00:00:00Z", until)])
    assert figures == plain and figures["deployment_frequency"]["deployments"] == 1
    assert figures["change_failure_rate"]["failures"] == 0  # a failed restart is no failed deployment
    # drift and the staging proof take the chain of succeeded restarts as the recorded deployment
    assert restarts.accepted(failed, "staging", ["dep-1"]) == ["dep-1", "dep-2", "dep-3"]
    record = drift.recorded_state(failed, "staging")
    assert record["accept"] == ["dep-1", "dep-2", "dep-3"]
    assert drift.deployment_findings(record, {"active_deployment": {"id": "dep-3"}}) == []
    assert drift.deployment_findings(record, {"active_deployment": {"id": "dep-4"}})  # the failed one is not
    live = {"active_deployment_id": "dep-3", "components": {}}
    gate = gates.staging_live_gate(failed, live, {})
    assert gate["ok"] and "(restarted from dep-1)" in gate["detail"]


@pytest.mark.parametrize("kw,error", [
    (dict(outcome="rolled_back"), "restart outcome: 'rolled_back'"),
    (dict(components=[]), "a restart names the App Platform components"),
    (dict(components=["API"]), "'API'"),
    (dict(deployment_id=None), "needs deployment_id"),
    (dict(deployment_id="two words"), "is not a deployment id"),
    (dict(restarted_by="a\nb"), "restarted_by"),
    (dict(at="yesterday"), "is not a UTC timestamp"),
])
def test_a_bad_restart_record_is_refused(kw, error):
    args = dict(environment="staging", outcome="succeeded", components=["api"], deployment_id="dep-2")
    args.update(kw)
    with pytest.raises(mf.ManifestError, match=error.replace("(", r"\(").replace(")", r"\)")):
        restarts.record(mf.new_manifest(), **args)


def test_release_manifest_state_restarted_check_mode_diff_and_idempotence(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(open(os.path.join(ROOT, "releases", "manifest.json")).read())
    p = dict((k, v.get("default")) for k, v in ARGUMENT_SPEC.items())
    p.update(path=str(path), state="restarted", environment="staging", outcome="succeeded",
             components=["api"], deployment_id="dep-9", restart_of="dep-8", deployed_by="alice")
    before = path.read_text()
    failed, result = execute(dict(p), check_mode=True, diff=True)
    assert not failed and result["changed"] and '"restarts"' in result["diff"]["after"] and path.read_text() == before
    failed, result = execute(dict(p))
    assert not failed and result["changed"] and result["restart_entry"]["deployment_id"] == "dep-9"
    failed, result = execute(dict(p))
    assert not failed and not result["changed"]
    failed, result = execute(dict(p, components=["Nope!"]))
    assert failed and "a restart names the App Platform components" in result["msg"]


def test_the_html_report_lists_restarts_apart_escaped():
    from ansible_collections.tachyon.infra.plugins.module_utils._common.times import parse_utc
    from ansible_collections.tachyon.infra.plugins.module_utils._release import history
    from ansible_collections.tachyon.infra.plugins.module_utils._report import report

    base = mf.create_release(mf.new_manifest(), "1.0.0", {"tachyon-api": "4a09142"},
                             **catalog.release_args(known_services=["tachyon-api"]))
    until = parse_utc("2026-12-02T00:00:00Z")
    plain = report.render(base, history.history_view(base), metrics.metrics(base, "30d", until), until)
    assert 'id="restarts"' not in plain
    after = restarts.record(base, "staging", "failed", ["api"], deployment_id="dep-2", restart_of="dep-1",
                            message='<script>alert("x")</script>', at="2026-12-01T11:00:00Z")
    page = report.render(after, history.history_view(after), metrics.metrics(after, "30d", until), until)
    assert '<section id="restarts"><h2>Restarts (1)</h2>' in page and "<code>dep-2</code>" in page
    assert '<script>alert("x")</script>' not in page and "&lt;script&gt;" in page


def test_a_restart_is_verified_by_the_option_verify_a_deploy_takes_version_pins_and_smoke_checks():
    """The restart's verification runs the checks of the one option ``verify`` (_platform/verify.py,
    doc fragment tachyon.infra.verify) against the emulator: the version /health must report, the
    pins read back, the smoke checks; a wrong version or pin fails naming it, after the restart."""
    from emulator.testing import running_emulator
    from ansible_collections.tachyon.infra.plugins.module_utils._platform import smoke
    from ansible_collections.tachyon.infra.plugins.module_utils._platform.client import make_client
    from ansible_collections.tachyon.infra.plugins.module_utils._platform.verify import VERIFY_OPTIONS

    with running_emulator(phase_seconds=0.02) as emu:
        app_id = emu.app_ids["staging"]
        client = make_client(emu.tokens["staging"], emu.url)
        version = emu.health(app_id)[1]["version"]
        verify = dict((key, spec.get("default")) for key, spec in VERIFY_OPTIONS.items())
        verify.update(expected_version=version, health_timeout=5.0, max_interval=0.1, platform_health_timeout=5.0,
                      services={"tachyon-api": {"component": "api", "tag": version}},
                      smoke_checks=smoke.validate([{"path": "/health", "json": {"status": "healthy"}}]))
        lines, result = [], {}
        plan = restart.plan(client.apps.get(app_id)["app"], ["api"], CATALOG)
        restart.Restarter(client, app_id, lines.append).run(plan, result, 20, 0.05, verify)
        assert result["went_live"] and result["verified"]["problems"] == []
        assert [r["ok"] for r in result["smoke"]] == [True]
        assert result["health"]["status"] == "healthy" and result["health"]["platform"]["api"]["state"] == "HEALTHY"
        assert any(line.startswith("  health: waiting for status healthy") and version in line for line in lines)

        for change, expect in (({"expected_version": "0.0.0-not-deployed", "health_timeout": 0.5},
                                "did not become healthy after the restart"),
                               ({"services": {"tachyon-api": {"component": "api", "tag": "0000000"}}},
                                "tachyon-api (component api) runs")):
            plan = restart.plan(client.apps.get(app_id)["app"], ["api"], CATALOG)
            with pytest.raises(restart.RestartFailed) as failed:
                restart.Restarter(client, app_id, lines.append).run(plan, {}, 20, 0.05, dict(verify, **change))
            assert expect in failed.value.msg, failed.value.msg
            assert failed.value.result["went_live"] is True  # the restart itself went live
