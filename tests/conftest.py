"""Make the collection importable as ansible_collections.tachyon.infra from a checkout."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".collections")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))

if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "tachyon", "infra")):
    raise RuntimeError("run `make setup` first: .collections/ansible_collections/tachyon/infra is missing")
for path in (COLLECTIONS, ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)

# Parallel runs (pytest-xdist: pytest.ini runs `-n 4 --dist loadgroup`). Tests are spread over
# the workers one by one, except:
#  - the tests of a module that use a fixture built once per module or class (a module-scoped
#    world of fixture repos, a browser, a build context) run on one worker, in file order, so
#    the fixture is still built once and tests that build on each other keep their order;
#  - modules that use something outside the process under fixed names share one worker.
SHARED_RESOURCES = {
    # Docker: both push ghcr.io-style tags tachyonapp/<service>:<fixture sha> (the same SHAs:
    # fixed dates) to the one local registry (127.0.0.1:5000), build local images under those
    # names, and test_registry_digests re-pushes a tag on purpose.
    "docker-registry": ("tests/integration/test_seed_readme.py", "tests/integration/test_registry_digests.py"),
    # scripts/workflows.sh: one runner image tag, the act-toolcache volume, act's containers
    # named after the workflow and job
    "act": ("tests/workflows/test_make_workflows.py",),
}
_SHARED_SCOPES = ("class", "module", "package", "session")


def _builds_a_shared_fixture(item):
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(info, "names_closure", ()):
        for fixturedef in info.name2fixturedefs.get(name, ()):
            func = getattr(fixturedef, "func", None)
            if fixturedef.scope in _SHARED_SCOPES and not getattr(func, "__module__", "_pytest").startswith("_pytest"):
                return True
    return False


def pytest_collection_modifyitems(config, items):
    if not config.pluginmanager.hasplugin("xdist"):
        return
    import pytest  # noqa: E402 - only when xdist runs
    groups = {path: group for group, paths in SHARED_RESOURCES.items() for path in paths}
    by_module = set()
    for item in items:
        if _builds_a_shared_fixture(item):
            by_module.add(item.nodeid.split("::", 1)[0])
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        group = groups.get(path) or (path if path in by_module else None)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
