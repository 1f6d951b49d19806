"""Make the collection importable as ansible_collections.tachyon.infra from a checkout."""
import fcntl
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
# that two pytest runs on one machine take turns too).
SHARED_RESOURCES = {
    # Docker: both push ghcr.io-style tags tachyonapp/<service>:<fixture sha> (the same SHAs:
    # fixed dates) to the one local registry (127.0.0.1:5000), build local images under those
    # names, and test_registry_digests re-pushes a tag on purpose.
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
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
