"""The emulator's time-driven deployment model, driven with explicit clock values (no
sleeping, no HTTP): phases, superseding, failing, canceling, health windows."""
import pytest

from emulator.faults import Faults
from emulator.store import ApiError, Store

SPEC = {"name": "clock-app", "region": "nyc",
        "services": [{"name": "api", "http_port": 4000,
                      "image": {"registry_type": "GHCR", "registry": "tachyonapp", "repository": "tachyon-api",
                                "tag": "t0"}}],
        "jobs": [{"name": "db-migrate", "kind": "PRE_DEPLOY",
                  "image": {"registry_type": "GHCR", "registry": "tachyonapp", "repository": "tachyon-db-migrate",
                            "tag": "t0"}}]}


def _spec(tag):
    spec = {**SPEC, "services": [dict(SPEC["services"][0], image=dict(SPEC["services"][0]["image"], tag=tag))]}
    return spec


@pytest.fixture
def world():
    faults = Faults()
    store = Store(phase_seconds={"PENDING_BUILD": 1, "BUILDING": 2, "PENDING_DEPLOY": 1, "DEPLOYING": 3},
                  faults=faults)
    store.add_account("acct", "sandbox-acct-token")
    account = store.accounts["acct"]
    app, _ = store.create_app(account, SPEC, app_id="app-1", now=1000.0, initial_active=True)
    return store, faults, account, app


def test_phases_follow_the_clock(world):
    store, _, account, app = world
    _, dep = store.update_app(account, "app-1", _spec("t1"), True, now=2000.0)
    expected = [(2000.0, "PENDING_BUILD"), (2000.99, "PENDING_BUILD"), (2001.0, "BUILDING"),
                (2003.0, "PENDING_DEPLOY"), (2004.0, "DEPLOYING"), (2006.99, "DEPLOYING"), (2007.0, "ACTIVE")]
    for now, phase in expected:
        assert store.phase_of(dep, now)[0] == phase, now
    assert store.health("app-1", now=2006.0)[1]["version"] == "t0"  # before ACTIVE: still the old one
    body = store.render_app(app, now=2007.5)
    assert body["active_deployment"]["id"] == dep["id"]
    assert body["last_deployment_active_at"] == "1970-01-01T00:33:27Z"  # epoch 2007, whole seconds as the API
    assert store.health("app-1", now=2007.5)[1]["version"] == "t1"


def test_newer_deployment_supersedes_running_and_active(world):
    store, _, account, app = world
    initial = app["active"]
    _, first = store.update_app(account, "app-1", _spec("t1"), True, now=2000.0)
    _, second = store.update_app(account, "app-1", _spec("t2"), True, now=2002.0)
    assert store.phase_of(first, 2002.0)[0] == "SUPERSEDED"
    assert store.phase_of(first, 2001.5)[0] == "BUILDING"
    store.render_app(app, now=2009.0)
    assert store.phase_of(second, 2009.0)[0] == "ACTIVE"
    assert store.phase_of(store.deployments[initial], 2009.0)[0] == "SUPERSEDED"
    assert store.deployments[initial]["active_at"] is not None


def test_failed_build_and_cancel(world):
    store, faults, account, app = world
    faults.add([{"kind": "deploy_fail", "stage": "build", "count": 1}])
    _, failed = store.update_app(account, "app-1", _spec("bad"), True, now=2000.0)
    assert store.phase_of(failed, 2002.9)[0] == "BUILDING"
    assert store.phase_of(failed, 2003.0)[0] == "ERROR"
    store.render_app(app, now=2003.0)
    assert app["active"] != failed["id"] and app["in_progress"] is None
    steps = store.render_deployment(failed, now=2003.0)["progress"]
    # api build failed; the deploy stage never ran: its initialize, api deploy+wait,
    # db-migrate deploy+wait and finalize leaves are PENDING
    assert (steps["error_steps"], steps["pending_steps"], steps["success_steps"]) == (1, 6, 2)
    assert "ERROR failed to pull image ghcr.io/tachyonapp/tachyon-api:bad" in store.log_text(failed, "api", "BUILD", now=2003.0)
    dep = store.create_deployment(account, "app-1", now=3000.0)
    store.cancel_deployment(account, "app-1", dep["id"], now=3001.5)
    assert store.phase_of(dep, 3100.0)[0] == "CANCELED"
    with pytest.raises(ApiError) as err:
        store.cancel_deployment(account, "app-1", dep["id"], now=3002.0)
    assert err.value.status == 400


def test_health_fault_windows_count_from_active(world):
    store, faults, account, app = world
    _, dep = store.update_app(account, "app-1", _spec("t1"), True, now=2000.0)
    faults.add([{"kind": "health", "mode": "unhealthy", "seconds": 10},
                {"kind": "health", "mode": "stale_version", "seconds": 20}])
    assert store.health("app-1", now=2008.0) == (503, {"status": "unhealthy", "version": "t0",
                                                      "timestamp": "1970-01-01T00:33:28.000Z",
                                                      "checks": {"postgres": "disconnected", "redis": "connected"}})
    assert store.health("app-1", now=2020.0)[0] == 200
    assert store.health("app-1", now=2020.0)[1]["version"] == "t0"  # stale for 20 s after ACTIVE at 2007
    assert store.health("app-1", now=2027.0)[1]["version"] == "t1"


def test_other_account_sees_not_found(world):
    store, _, _, _ = world
    store.add_account("other", "sandbox-other-token")
    with pytest.raises(ApiError) as err:
        store.update_app(store.accounts["other"], "app-1", SPEC, now=2000.0)
    assert (err.value.status, err.value.error_id) == (404, "not_found")
    with pytest.raises(ValueError):
        store.add_account("third", "sandbox-other-token")


def _built_steps(body):
    build = body["progress"]["steps"][0]
    return {s["name"]: s for s in build["steps"][1]["steps"]}


def test_build_steps_reasons_and_times(world):
    """A git-sourced component is built (no reason) at a new source revision and reused
    (PreviousBuildReused) at the same one; an image is PreBuiltImage. Component steps carry
    Go's zero time, stage steps nanosecond times (tests/recorded/fixtures)."""
    store, _, account, app = world
    spec = dict(SPEC, workers=[{"name": "worker", "git": {"repo_clone_url": "https://github.com/o/r.git",
                                                           "branch": "main"}}])
    _, first = store.update_app(account, "app-1", spec, True, now=2000.0)
    body = store.render_deployment(first, now=2010.0)
    steps = _built_steps(body)
    assert "reason" not in steps["worker"] and steps["worker"]["started_at"] == "0001-01-01T00:00:00Z"
    assert steps["api"]["reason"]["code"] == "PreBuiltImage"
    assert body["progress"]["steps"][0]["started_at"] == "1970-01-01T00:33:21Z"  # BUILDING from 2001.0
    assert body["progress"]["steps"][0]["steps"][0]["ended_at"] == "1970-01-01T00:33:21.2Z"
    assert body["workers"] == [{"name": "worker", "source_commit_hash": body["workers"][0]["source_commit_hash"]}]
    again = store.create_deployment(account, "app-1", now=3000.0)
    assert _built_steps(store.render_deployment(again, now=3010.0))["worker"]["reason"]["code"] == "PreviousBuildReused"
    forced = store.create_deployment(account, "app-1", force_build=True, now=4000.0)
    assert "reason" not in _built_steps(store.render_deployment(forced, now=4010.0))["worker"]
