"""One plan per deploy (issue 25) against the App Platform emulator's request log: the deploy
reads the target app once before it creates the deployment (the plan's read is what app_deploy
applies), and a default-verbosity deploy prints the plan once, short, naming per component the
commit and the digest that go live."""
import re

import pytest

from emulator.testing import running_emulator
from test_deploy import RELEASE, Run, sandbox_digest


@pytest.fixture(name="run")
def run_fixture(tmp_path):
    with running_emulator(phase_seconds=0.05) as emu:
        yield Run(emu, tmp_path)


def test_the_target_app_is_read_once_before_the_deployment_is_created(run):
    app_id = run.emu.app_ids["staging"]
    run.emu.clear_requests()
    rc, out = run.staging()
    assert rc == 0, out
    log = run.emu.requests()
    update = [i for i, r in enumerate(log) if r["method"] == "PUT" and r["path"] == "/v2/apps/%s" % app_id]
    assert len(update) == 1, log
    reads = [r for r in log[:update[0]] if r["method"] == "GET" and r["path"] == "/v2/apps/%s" % app_id]
    assert len(reads) == 1, log[:update[0]]
    # nothing else was written: one update, no other app's request
    assert [r for r in log if r["method"] != "GET"] == [log[update[0]]]


def test_the_plan_is_printed_once_naming_commits_and_digests(run):
    rc, out = run.staging()
    assert rc == 0, out
    assert out.count("PLAN staging release 0.1.0: deploy;") == 1, out
    for name, sha in RELEASE.items():
        assert re.search(r"  %s +\S+ -> %s +%s" % (name, sha[:7], sandbox_digest(name, sha)), out), name
    # issue 25: at most 15 task banners and 40 lines in all at default verbosity
    assert out.count("TASK [") <= 15 and len(out.splitlines()) <= 40, out
    # a second identical deploy: nothing to do, said once
    rc, out = run.staging()
    assert rc == 0 and "nothing to do (the app runs these images)" in out, out
