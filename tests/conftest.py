"""Make the collection importable as ansible_collections.tachyon.infra from a checkout."""
import fcntl
import json
import os
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".collections")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))

if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "tachyon", "infra")):
    raise RuntimeError("run `make setup` first: .collections/ansible_collections/tachyon/infra is missing")
for path in (COLLECTIONS, ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)

# Parallel runs (pytest-xdist: make test runs `-n 4 --dist loadfile`): the tests of a module run
# on one worker, in file order, so module fixtures are built once and tests that build on each
# other keep their order. Modules that use something outside the process under fixed names hold
# an exclusive lock on it for the module's duration (a file lock in the temporary directory, so
# that two pytest runs on one machine take turns too, and so do the phases make test runs beside
# pytest: .ci/phases.sh, scripts/workflows.sh).
SHARED_RESOURCES = {
    # Docker: both build local images and push to the one local registry (127.0.0.1:5000), and
    # test_registry_digests re-pushes a tag on purpose. Its fixture commits carry a nonce
    # (make_repos nonce=), like test_add_a_service's, so their tags are theirs alone; the
    # fixture's fixed-date SHAs (and so tags) are test_seed_readme's.
    "docker-registry": ("tests/integration/test_seed_readme.py", "tests/integration/test_registry_digests.py"),
    # scripts/workflows.sh: one runner image tag, the act-toolcache volume, act's containers
    # named after the workflow and job
    "act": ("tests/workflows/test_make_workflows.py",),
}


@pytest.fixture(scope="module", autouse=True)
def _shared_resource_lock(request):
    path = os.path.relpath(str(request.node.path), ROOT)
    group = next((name for name, paths in SHARED_RESOURCES.items() if path in paths), None)
    if group is None:
        yield
        return
    with open(os.path.join(tempfile.gettempdir(), "tachyon-tests-%s.lock" % group), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        # what the module starts knows it holds the lock (scripts/workflows.sh takes the act
        # lock itself unless TACHYON_LOCK_HELD_ACT is set)
        held = "TACHYON_LOCK_HELD_" + group.upper().replace("-", "_")
        os.environ[held] = "1"
        try:
            yield
        finally:
            os.environ.pop(held, None)
            fcntl.flock(handle, fcntl.LOCK_UN)


# Scheduling (make test: -n 4 --dist loadfile --no-loadscope-reorder): the modules run heaviest
# first (longest processing time first), so the last minutes are not one worker finishing a
# two-minute module while the others idle. The weights are the seconds each module took in a
# measured run (tests/durations.json: refresh it from build/ci/pytest-durations.json, which every
# run writes); a module not listed weighs by its folder. A module's own tests keep their order.
DURATIONS = os.path.join(ROOT, "tests", "durations.json")
DURATIONS_OUT = os.path.join(ROOT, "build", "ci", "pytest-durations.json")
UNLISTED_WEIGHT = {"integration": 30.0, "workflows": 5.0, "recorded": 5.0, "emulator": 5.0}


def module_weights():
    try:
        with open(DURATIONS) as handle:
            return json.load(handle)["modules"]
    except (OSError, ValueError, KeyError):
        return {}


def pytest_collection_modifyitems(session, config, items):
    weights = module_weights()
    order, modules = [], {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path not in modules:
            modules[path] = []
            order.append(path)
        modules[path].append(item)

    def weight(path):
        if path in weights:
            return weights[path]
        return UNLISTED_WEIGHT.get(path.split("/")[1] if path.count("/") > 1 else "", 1.0)

    order.sort(key=weight, reverse=True)  # stable: equal weights keep the collection order
    items[:] = [item for path in order for item in modules[path]]


# The longest modules are sets of independent tests (each builds its own emulator, manifest copy
# and hub remote through function-scoped fixtures; no module-scoped fixture, no test reads what
# another left): their tests are handed out one by one, so one module does not keep one worker
# busy for a quarter of the run. Every other module stays whole on one worker, in file order.
SPLIT_MODULES = {
    "tests/integration/test_deploy.py",
    "tests/integration/test_injection.py",
    "tests/integration/test_promotion_gates_flow.py",
    "tests/integration/test_deploy_lock.py",
    "tests/integration/test_rollback_version.py",
    "tests/integration/test_deploy_notifications.py",
    "tests/integration/test_rerun_and_rollback.py",
    "tests/integration/test_awx_runner.py",
}


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, with the tests of SPLIT_MODULES as units of their own; the units go out
    in collection order (the heaviest modules first: pytest_collection_modifyitems)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid):
            path = nodeid.split("::", 1)[0]
            return nodeid if path in SPLIT_MODULES else path

    config.option.loadscopereorder = False  # xdist would sort the units by their test counts
    return Scheduling(config, log)


class _ModuleDurations:
    """Seconds per test module (setup + call + teardown of its tests), written at the end of
    the run to build/ci/pytest-durations.json and summed up in the terminal summary."""

    def __init__(self):
        self.seconds = {}

    def pytest_runtest_logreport(self, report):
        path = report.nodeid.split("::", 1)[0]
        self.seconds[path] = self.seconds.get(path, 0.0) + report.duration

    def pytest_terminal_summary(self, terminalreporter):
        if not self.seconds:
            return
        modules = dict(sorted(((k, round(v, 1)) for k, v in self.seconds.items()), key=lambda kv: -kv[1]))
        os.makedirs(os.path.dirname(DURATIONS_OUT), exist_ok=True)
        with open(DURATIONS_OUT, "w") as handle:
            json.dump({"total_seconds": round(sum(modules.values()), 1), "modules": modules}, handle, indent=1)
            handle.write("\n")
        terminalreporter.write_sep("=", "slowest 10 test modules (seconds, all their tests)")
        for path, seconds in list(modules.items())[:10]:
            terminalreporter.write_line("%8.1fs %s" % (seconds, path))
        terminalreporter.write_line("%8.1fs in all (%d modules); per module: %s" % (
            sum(modules.values()), len(modules), os.path.relpath(DURATIONS_OUT, ROOT)))


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist) only
        config.pluginmanager.register(_ModuleDurations(), "tachyon-module-durations")
