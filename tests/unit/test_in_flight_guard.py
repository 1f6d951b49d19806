"""app_deploy's in-flight guard (issue 19): a deployment of another spec in progress on the app is
refused, naming it, or waited for with in_flight_wait. A fake pydo client answers the app GETs
(shapes from the OpenAPI #/app example: pending_deployment carries id and spec, the deployment
GET carries phase and cause)."""
import pytest

from ansible_collections.tachyon.infra.plugins.modules import app_deploy

OURS = {"name": "tachyon-staging", "services": [{"name": "api", "image": {"tag": "new"}}]}
LIVE = {"name": "tachyon-staging", "services": [{"name": "api", "image": {"tag": "old"}}]}


class Done(Exception):
    pass


class Module(object):
    check_mode = False
    _diff = False

    def __init__(self, **params):
        self.params = dict(app_id="app-1", in_flight_wait=0, poll_interval=0.5, progress_file=None)
        self.params.update(params)
        self.result = None

    def fail_json(self, **kw):
        self.result = dict(kw, failed=True)
        raise Done()


class Apps(object):
    def __init__(self, phases):
        self.phases = list(phases)  # phase of THEIR deployment at each app GET

    def get(self, app_id):
        phase = self.phases.pop(0) if len(self.phases) > 1 else self.phases[0]
        app = {"id": app_id, "active_deployment": {"id": "live", "phase": "ACTIVE", "spec": LIVE}}
        if phase:
            app["in_progress_deployment"] = {"id": "theirs", "spec": LIVE}
            self.phase = phase
        return {"app": app}

    def get_deployment(self, app_id, dep_id):
        return {"deployment": {"id": dep_id, "phase": self.phase, "cause": "manual",
                               "created_at": "2026-12-01T09:00:00Z", "progress": {"steps": []}}}


class Client(object):
    def __init__(self, phases):
        self.apps = Apps(phases)


def _deployer(module, phases, clock=None):
    ticks = iter(range(1000))
    return app_deploy.Deployer(module, Client(phases), clock=clock or (lambda: float(next(ticks))),
                               sleep=lambda s: None)


def test_another_clients_deployment_in_progress_is_refused_naming_it():
    module = Module()
    deployer = _deployer(module, ["BUILDING"])
    app = deployer.get_app()
    foreign = deployer.foreign_in_flight(app, OURS)
    assert foreign["id"] == "theirs"
    with pytest.raises(Done):
        deployer.wait_for_foreign(foreign, OURS, deadline=100)
    msg = module.result["msg"]
    assert "deployment theirs (phase BUILDING, cause: manual" in msg and "is not ours" in msg
    assert "Nothing was deployed" in msg and "tachyon_lock_wait" in msg
    assert module.result["in_flight_deployment_id"] == "theirs"


def test_a_deployment_of_our_own_spec_is_not_foreign():
    deployer = _deployer(Module(), ["BUILDING"])
    assert deployer.foreign_in_flight(deployer.get_app(), LIVE) is None


def test_with_in_flight_wait_it_waits_until_the_deployment_is_over():
    module = Module(in_flight_wait=30)
    deployer = _deployer(module, ["BUILDING", "BUILDING", "DEPLOYING", None])
    app = deployer.get_app()
    after = deployer.wait_for_foreign(deployer.foreign_in_flight(app, OURS), OURS, deadline=100)
    assert "in_progress_deployment" not in after
    assert any("waiting for deployment theirs" in line for line in deployer.lines)


def test_the_wait_is_bounded():
    module = Module(in_flight_wait=3)
    deployer = _deployer(module, ["BUILDING"])
    with pytest.raises(Done):
        deployer.wait_for_foreign(deployer.foreign_in_flight(deployer.get_app(), OURS), OURS, deadline=100)
    assert module.result["msg"].startswith("waited") and "deployment theirs" in module.result["msg"]
