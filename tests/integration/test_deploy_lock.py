"""One deploy lock for every runner (issue 19), end to end: playbooks/deploy.yml, rollback.yml and
lock.yml run from two separate clones of the hub that share one bare remote (file://), against
the App Platform emulator. The lock and freezes are refs of that remote; the manifest records
are published to it (manifest_publish re-applies a record when the other clone pushed first)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from emulator.testing import running_emulator
from playbook_run import secret_keys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
RELEASE = {"tachyon-api": "4a091424887308027935eb247097d4ffd77c8f99",
           "tachyon-workers": "2f9e050447ffe25d88c4035db2d4bb3f9987b7ff",
           "tachyon-db-migrate": "9252ea24498a84c0fdcdc75be8ea8182caebb176"}
OTHER = {"tachyon-api": "a" * 40, "tachyon-workers": "b" * 40, "tachyon-db-migrate": "c" * 40}
FAST = {"tachyon_poll_interval": 0.3, "tachyon_health_timeout": 4, "tachyon_health_max_interval": 0.3,
        "tachyon_health_consecutive": 1, "tachyon_deploy_timeout": 60, "tachyon_publish_manifest": True,
        "tachyon_lock_poll_interval": 0.3, "tachyon_soak_minutes": 0}
GIT_ENV = {"GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.invalid", "GIT_COMMITTER_NAME": "ci",
           "GIT_COMMITTER_EMAIL": "ci@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


SECRETS = {key: "s3cr3t-%s-%s" % (key.lower(), os.urandom(4).hex()) for key in secret_keys()}


def git(cwd, *args):
    return subprocess.run(["git"] + list(args), cwd=str(cwd), env=dict(os.environ, **GIT_ENV), check=True,
                          capture_output=True, text=True).stdout.strip()


class Hub(object):
    """A bare hub remote, seeded with the release manifest, and clones of it."""

    def __init__(self, emu, tmp_path):
        self.emu = emu
        self.tmp = tmp_path
        self.bare = tmp_path / "hub.git"
        git(tmp_path, "init", "-q", "--bare", "-b", "main", str(self.bare))
        seed = tmp_path / "seed"
        git(tmp_path, "clone", "-q", "file://%s" % self.bare, str(seed))
        (seed / "releases").mkdir()
        shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), str(seed / "releases" / "manifest.json"))
        git(seed, "add", ".")
        git(seed, "commit", "-qm", "release 0.1.0")
        git(seed, "push", "-q", "origin", "HEAD:main")
        self.env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"],
                        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                        TACHYON_SANDBOX_ENDPOINT=emu.url, **GIT_ENV)
        self.env.update({"TACHYON_SECRET_" + k: v for k, v in SECRETS.items()})

    def clone(self, name):
        path = self.tmp / name
        git(self.tmp, "clone", "-q", "file://%s" % self.bare, str(path))
        return path

    def command(self, clone, playbook, env="staging", who="tester", extra=None):
        variables = dict(FAST, manifest_path=str(clone / "releases" / "manifest.json"),
                         tachyon_publish_repo_dir=str(clone), tachyon_deployed_by=who)
        variables.update(extra or {})
        return ["ansible-playbook", os.path.join("playbooks", playbook), "-i", "inventories/sandbox", "-l", env,
                "-e", json.dumps(variables)]

    def start(self, clone, playbook="deploy.yml", **kw):
        return subprocess.Popen(self.command(clone, playbook, **kw), cwd=ROOT, env=dict(
            self.env, ANSIBLE_LOCAL_TEMP=str(clone / ".ansible-tmp")), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def run(self, clone, playbook="deploy.yml", **kw):
        proc = self.start(clone, playbook, **kw)
        out, _err = proc.communicate(timeout=300)
        return proc.returncode, out

    def manifest(self):
        return mf.parse(git(self.bare, "show", "main:releases/manifest.json"), "remote")[0]

    def refs(self):
        return git(self.bare, "for-each-ref", "--format=%(refname)", "refs/tachyon/")

    def app(self, env="staging"):
        return self.emu.client(env).apps.get(self.emu.app_ids[env])["app"]


@pytest.fixture
def hub(tmp_path):
    with running_emulator(phase_seconds=0.05) as emu:
        yield Hub(emu, tmp_path)


def both(hub, first, second, extra_a, extra_b):
    """Start a deploy from each clone at the same moment; (rc, out) of each."""
    procs = [hub.start(first, who="alice", extra=extra_a), hub.start(second, who="bob", extra=extra_b)]
    return [(p.returncode, out) for p, out in ((p, p.communicate(timeout=300)[0]) for p in procs)]


def staging_history(hub):
    return [e for e in hub.manifest()["history"] if e["environment"] == "staging"]


def test_two_clones_deploying_staging_at_once_one_deploys_the_other_is_refused_naming_it(hub):
    a, b = hub.clone("laptop"), hub.clone("runner")
    before = len(hub.emu.client("staging").apps.list_deployments(hub.emu.app_ids["staging"])["deployments"])
    results = both(hub, a, b, {"tachyon_shas": RELEASE}, {"tachyon_shas": OTHER})
    ok = [i for i, (rc, _out) in enumerate(results) if rc == 0]
    assert len(ok) == 1, results
    winner, loser = ("alice", "bob") if ok == [0] else ("bob", "alice")
    refused = results[1 - ok[0]][1]
    assert "another deploy of staging" in refused and "held by %s" % winner in refused, refused[-3000:]
    assert "Nothing was deployed" in refused
    after = hub.emu.client("staging").apps.list_deployments(hub.emu.app_ids["staging"])["deployments"]
    assert len(after) == before + 1
    history = staging_history(hub)
    assert [(e["deployed_by"], e["outcome"]) for e in history] == [(loser, "failed"), (winner, "succeeded")], history
    assert "held by %s" % winner in history[0]["message"]
    assert hub.refs() == ""  # both locks released
    for value in SECRETS.values():
        assert value not in refused


def test_with_tachyon_lock_wait_the_second_deploys_after_the_first(hub):
    a, b = hub.clone("laptop"), hub.clone("runner")
    results = both(hub, a, b, {"tachyon_shas": RELEASE, "tachyon_lock_wait": 120},
                   {"tachyon_shas": OTHER, "tachyon_lock_wait": 120})
    assert [rc for rc, _out in results] == [0, 0], results
    assert any("waiting for the staging lock held by" in out for _rc, out in results)
    history = staging_history(hub)
    assert [e["outcome"] for e in history] == ["succeeded", "succeeded"]
    assert history[0]["at"] <= history[1]["at"]
    live = hub.app()["active_deployment"]["id"]
    assert hub.manifest()["environments"]["staging"]["deployment_id"] == live == history[1]["deployment_id"]


def test_a_killed_holder_s_lock_expires_and_the_next_deploy_takes_it_over(hub):
    a, b = hub.clone("laptop"), hub.clone("runner")
    hub.emu.set_faults([{"kind": "slow_phase", "phase": "BUILDING", "seconds": 3}])
    proc = hub.start(a, who="alice", extra={"tachyon_shas": RELEASE, "tachyon_lock_stale_after": 2})
    deadline = time.time() + 60
    while "refs/tachyon/locks/staging" not in hub.refs():
        assert time.time() < deadline and proc.poll() is None, proc.communicate()[0]
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert "refs/tachyon/locks/staging" in hub.refs()  # nobody released it
    time.sleep(2.2)
    rc, out = hub.run(b, who="bob", extra={"tachyon_shas": RELEASE})
    assert rc == 0, out[-3000:]
    assert "took over a stale lock of alice" in out and "expired at" in out
    assert hub.refs() == ""


def test_a_freeze_from_one_clone_blocks_the_other_until_released(hub):
    a, b = hub.clone("laptop"), hub.clone("runner")
    rc, out = hub.run(a, "lock.yml", who="alice", extra={"lock_action": "acquire", "lock_reason": "incident 7: db failover"})
    assert rc == 0 and "froze staging" in out, out[-2000:]
    rc, out = hub.run(b, "lock.yml", who="bob", extra={"lock_action": "status"})
    assert rc == 0 and "FROZEN by alice" in out and "incident 7: db failover" in out and "since 20" in out, out[-2000:]
    before = hub.app()["active_deployment"]["id"]
    rc, out = hub.run(b, who="bob", extra={"tachyon_shas": OTHER})
    assert rc != 0 and "staging is FROZEN by alice" in out and "incident 7" in out and "lock_action=release" in out
    assert hub.app()["active_deployment"]["id"] == before
    rc, out = hub.run(a, "lock.yml", who="alice", extra={"lock_action": "release"})
    assert rc == 0 and "released the staging freeze of alice" in out, out[-2000:]
    rc, out = hub.run(b, who="bob", extra={"tachyon_shas": OTHER})
    assert rc == 0, out[-3000:]
    assert [e["outcome"] for e in staging_history(hub)] == ["failed", "succeeded"]


def test_break_glass_deploys_past_a_freeze_and_is_recorded(hub):
    a, b = hub.clone("laptop"), hub.clone("runner")
    assert hub.run(a, "lock.yml", who="alice", extra={"lock_action": "acquire", "lock_reason": "release freeze"})[0] == 0
    rc, out = hub.run(b, who="bob", extra={"tachyon_shas": OTHER, "tachyon_break_glass": "hotfix for incident 8"})
    assert rc == 0 and "BREAK-GLASS" in out, out[-3000:]
    entry = staging_history(hub)[-1]
    assert entry["outcome"] == "succeeded" and "BREAK-GLASS" in entry["message"] and "hotfix for incident 8" in entry["message"]
    assert "refs/tachyon/freezes/staging" in hub.refs()  # the freeze stays


def test_a_deployment_another_client_started_blocks_our_deploy_naming_it(hub):
    a = hub.clone("laptop")
    client = hub.emu.client("staging")
    app_id = hub.emu.app_ids["staging"]

    def another_client_deploys(seconds):
        # a slow deployment of the app's current spec, as the control panel or doctl would start
        hub.emu.set_faults([{"kind": "slow_phase", "phase": "BUILDING", "seconds": seconds}])
        dep = client.apps.create_deployment(app_id, {"force_build": True})["deployment"]
        hub.emu.clear_faults()
        return dep

    def finished(dep):
        # theirs ends before the next case starts one of its own (one deployment in flight at a time)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            phase = client.apps.get_deployment(app_id, dep["id"])["deployment"]["phase"]
            if phase not in ("PENDING_BUILD", "BUILDING", "PENDING_DEPLOY", "DEPLOYING"):
                return phase
            time.sleep(0.5)
        raise AssertionError("deployment %s still in flight after 120 s" % dep["id"])
    # in flight long enough to outlast ansible-playbook's start and the plan's reads on a loaded
    # machine (12 s was not, with four test workers on two cores)
    theirs = another_client_deploys(40)
    rc, out = hub.run(a, who="alice", extra={"tachyon_shas": OTHER})
    assert rc != 0 and "deployment %s (phase" % theirs["id"] in out and "is not ours" in out, out[-3000:]
    assert "cause: manual" in out and "tachyon_lock_wait" in out
    assert client.apps.list_deployments(app_id)["deployments"][0]["id"] == theirs["id"]  # nothing of ours
    finished(theirs)
    # with tachyon_lock_wait the deploy waits for it, then deploys
    theirs = another_client_deploys(40)  # long enough to be in flight after the plan's reads
    rc, out = hub.run(a, who="alice", extra={"tachyon_shas": OTHER, "tachyon_lock_wait": 120})
    assert rc == 0 and "waiting for deployment %s" % theirs["id"] in out, out[-3000:]
    phases = {d["id"]: d["phase"] for d in client.apps.list_deployments(app_id)["deployments"]}
    assert phases[theirs["id"]] == "SUPERSEDED"  # it finished (ACTIVE), then ours replaced it


def test_an_automatic_rollback_in_production_leaves_production_frozen(hub):
    a, b = hub.clone("laptop"), hub.clone("runner")
    rc, out = hub.run(a, who="alice", extra={"tachyon_shas": RELEASE})
    assert rc == 0, out[-3000:]
    git(b, "pull", "-q", "--ff-only", "origin", "main")
    # production's app only: an unhealthy staging would stop the promotion gates before the deploy
    hub.emu.set_faults([{"kind": "health", "mode": "unhealthy", "app_id": hub.emu.app_ids["production"]}])
    # the release carries a migration (production ran db-migrate:sandbox-initial): roll back anyway
    # (production's default after a migration is to freeze without rolling back, issue 14)
    prod = {"tachyon_version": "0.1.0", "tachyon_approved_by": "carol", "tachyon_rollback_after_migration": "rollback"}
    rc, out = hub.run(b, env="production", who="bob", extra=prod)
    assert rc != 0 and "Rolled back to the last good deployment" in out, out[-3000:]
    assert "production is now FROZEN" in out and "lock_action=release" in out
    assert "refs/tachyon/freezes/production" in hub.refs()
    hub.emu.clear_faults()
    git(a, "pull", "-q", "--ff-only", "origin", "main")
    rc, out = hub.run(a, env="production", who="alice", extra=prod)
    assert rc != 0 and "production is FROZEN by bob" in out and "automatic rollback" in out, out[-3000:]
    # a manual rollback is blocked too
    rc, out = hub.run(a, "rollback.yml", env="production", who="alice")
    assert rc != 0 and "production is FROZEN by bob" in out, out[-3000:]


def test_a_deploy_that_succeeded_is_reported_so_when_only_publishing_its_record_fails(hub):
    a = hub.clone("laptop")
    # pushes of the manifest go nowhere; the lock still reaches the hub (its URL given directly)
    git(a, "remote", "set-url", "--push", "origin", "file://%s" % (hub.tmp / "gone.git"))
    before = hub.app()["active_deployment"]["id"]
    rc, out = hub.run(a, who="alice", extra={"tachyon_shas": OTHER, "tachyon_lock_remote": "file://%s" % hub.bare})
    assert rc != 0
    assert "staging deploy of release 0.1.0 SUCCEEDED" in out and "PUBLISHING that record FAILED" in out, out[-3000:]
    assert "rescued=0" in out and "Roll back" not in out
    live = hub.app()["active_deployment"]
    local = json.loads((a / "releases" / "manifest.json").read_text())
    assert local["history"][-1]["outcome"] == "succeeded" and local["history"][-1]["deployment_id"] == live["id"]
    # not rolled back: the app runs the new deployment, with the images recorded for OTHER's SHAs
    api = local["environments"]["staging"]["services"]["tachyon-api"]
    assert live["id"] != before and api["sha"] == "a" * 40
    assert (api.get("digest") or api["tag"]) in json.dumps(live["spec"])
    assert hub.refs() == ""  # the lock was released


def _readme_command(prefix):
    """The README's command that starts with ``prefix`` (a line of its own, or the code span of
    a table cell: `...`), as the shell splits it."""
    import re
    import shlex
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith(prefix)]
    lines += re.findall(r"`(%s[^`]*)`" % re.escape(prefix), text)
    assert lines, "README.md has no command starting with %r" % prefix
    return shlex.split(lines[0])


def test_the_readme_freeze_command_works_as_written_and_records_the_whole_reason(hub):
    """Issue 26, class 7: `-e lock_reason="incident 123"` reaches ansible-core as
    `lock_reason=incident 123` (the shell took the quotes); the freeze records all of it."""
    argv = _readme_command("ansible-playbook playbooks/lock.yml -i inventories/production -e lock_action=acquire")
    assert argv[-2:] == ["-e", "lock_reason=incident 123"], argv
    a = hub.clone("laptop")
    # the README's arguments, on the sandbox's production host and this test's hub remote
    argv = [arg for arg in argv if arg not in ("-i", "inventories/production")]
    cmd = hub.command(a, "lock.yml", env="production", who="alice") + argv[2:]
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(hub.env, ANSIBLE_LOCAL_TEMP=str(a / ".ansible-tmp")),
                          capture_output=True, text=True, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "froze production" in out, out[-3000:]
    record = git(hub.bare, "log", "-1", "--format=%B", "refs/tachyon/freezes/production")
    assert "Tachyon-Reason: incident 123\n" in record + "\n", record
    rc, out = hub.run(a, "lock.yml", env="production", who="bob", extra={"lock_action": "status"})
    assert rc == 0 and "incident 123" in out, out[-2000:]


@pytest.mark.parametrize("words", [["-e", "tachyon_deployed_by=alice smith"],
                                   ["-e", "tachyon_version=1.2.3 extra"]])
def test_words_ansible_would_drop_are_refused_where_no_free_text_is_taken(hub, words):
    a = hub.clone("laptop")
    before = hub.app()["active_deployment"]["id"]
    cmd = hub.command(a, "deploy.yml", who="alice") + words
    proc = subprocess.run(cmd, cwd=ROOT, env=dict(hub.env, ANSIBLE_LOCAL_TEMP=str(a / ".ansible-tmp")),
                          capture_output=True, text=True, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "_raw_params" in out and "several words" in out, out[-3000:]
    assert "smith" not in out and "extra\"" not in out  # the value is never repeated
    assert hub.app()["active_deployment"]["id"] == before


def test_a_takeover_of_our_lock_mid_deploy_is_warned_summarised_and_recorded(hub):
    """Issue 26, class 6: another holder takes our lock over while we deploy: the run says so
    (a warning), the job summary says so, and the history entry records it."""
    from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock
    a, b = hub.clone("laptop"), hub.clone("runner")
    summary = hub.tmp / "step-summary.md"
    proc = hub.start(a, who="alice", extra={"tachyon_summary_path": str(summary), "tachyon_shas": OTHER})
    thief = git_lock.GitRefStore(str(b), "origin")
    ref = git_lock.lock_ref("staging")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        token, _current = thief.read(ref)
        if token:
            assert thief.create(ref, git_lock.new_holder("lock", "mallory", "deploy of staging", 600), expected=token)
            break
        time.sleep(0.05)
    out, _err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-3000:]
    assert "TAKEN OVER during this run by mallory" in out, out[-3000:]
    assert "TAKEN OVER" in summary.read_text() and "mallory" in summary.read_text()
    last = staging_history(hub)[-1]
    assert last["outcome"] == "succeeded" and "LOCK: our staging lock" in last["message"], last
    # the thief's lock is left in place
    assert thief.read(ref)[1]["holder"] == "mallory"
