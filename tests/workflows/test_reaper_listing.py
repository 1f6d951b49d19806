"""The preview reaper fails closed (issue 26, class 3): it deletes the previews of every pull request
not in its listing of open ones, so a listing it could not read completely must stop the run and
delete nothing. scripts/open-pull-requests.sh against the stand-in gh (fixtures/gh): gh failing,
gh exiting 0 with malformed, truncated, empty or error-object output, entries without a number,
a list as long as the limit, one repo of three failing; then the reaper job's steps as the
workflow runs them (its shell, in order, a failed step ends the job) with a recording
ansible-playbook: the reap playbook is never called."""
import json
import os
import shlex
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
SCRIPT = os.path.join(ROOT, "scripts", "open-pull-requests.sh")
REPOS = ("tachyon-api", "tachyon-workers", "tachyon-db")


def _answers(tmp_path, answers):
    path = tmp_path / "gh-answers.json"
    path.write_text(json.dumps(answers))
    return dict(os.environ, GH_STANDIN=str(path), GH_STANDIN_LOG=str(tmp_path / "gh-calls.log"),
                PATH=FIXTURES + os.pathsep + os.environ["PATH"])


def _listing(repo, stdout, rc=0, stderr=""):
    return {"match": ["pr", "list", "--repo", "tachyonapp/%s" % repo], "rc": rc, "stdout": stdout, "stderr": stderr}


def _run(env, *extra):
    return subprocess.run(["bash", SCRIPT, "tachyonapp"] + list(extra or REPOS), env=env, capture_output=True,
                          text=True, check=False, timeout=60)


def test_a_complete_listing_is_every_open_pull_request(tmp_path):
    env = _answers(tmp_path, [_listing("tachyon-api", '[{"number":42},{"number":7}]\n'),
                              _listing("tachyon-workers", "[]\n"), _listing("tachyon-db", '[{"number":3}]')])
    proc = _run(env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == ["tachyonapp/tachyon-api#42", "tachyonapp/tachyon-api#7",
                                       "tachyonapp/tachyon-db#3"]
    calls = [json.loads(line) for line in (tmp_path / "gh-calls.log").read_text().splitlines()]
    assert [c[c.index("--repo") + 1] for c in calls] == ["tachyonapp/%s" % r for r in REPOS]
    assert all(c[c.index("--state") + 1] == "open" for c in calls)


FAILING = {
    "gh-fails": [_listing("tachyon-api", "", rc=1, stderr="HTTP 401: Bad credentials\n")],
    "gh-rate-limited": [_listing("tachyon-api", "", rc=1, stderr="API rate limit exceeded\n")],
    "malformed-json": [_listing("tachyon-api", "[{number: 42}]")],
    "truncated-json": [_listing("tachyon-api", '[{"number":42},{"numb')],
    "empty-output": [_listing("tachyon-api", "")],
    "error-object": [_listing("tachyon-api", '{"message":"Not Found","status":"404"}')],
    "entry-without-number": [_listing("tachyon-api", '[{"number":42},{"title":"x"}]')],
    "number-not-an-integer": [_listing("tachyon-api", '[{"number":"42"}]')],
    "null": [_listing("tachyon-api", "null")],
    "as-long-as-the-limit": [_listing("tachyon-api", json.dumps([{"number": n} for n in range(1, 4)]))],
    "two-json-values": [_listing("tachyon-api", "[]\n[]")],
    "second-repo-fails": [_listing("tachyon-api", '[{"number":42}]'),
                          _listing("tachyon-workers", "", rc=2, stderr="connection reset\n")],
    "third-repo-truncated": [_listing("tachyon-api", '[{"number":42}]'), _listing("tachyon-workers", "[]"),
                             _listing("tachyon-db", "[")],
}


@pytest.mark.parametrize("case", sorted(FAILING))
def test_a_listing_that_is_not_complete_fails_loudly_and_lists_nothing(tmp_path, case):
    env = _answers(tmp_path, FAILING[case])
    env["TACHYON_PR_LIST_LIMIT"] = "3"
    proc = _run(env)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stdout == ""  # no partial list for the reap step to read
    assert "::error::open pull requests of tachyonapp/" in proc.stderr
    assert "Nothing is reaped" in proc.stderr


def test_bad_usage_is_refused(tmp_path):
    env = _answers(tmp_path, [])
    assert _run(env, "--help").returncode == 2
    env["TACHYON_PR_LIST_LIMIT"] = "0"
    proc = _run(env)
    assert proc.returncode == 2 and "positive integer" in proc.stderr


def _job_steps():
    with open(os.path.join(ROOT, ".github", "workflows", "preview-reaper.yml"), encoding="utf-8") as handle:
        workflow = yaml.safe_load(handle)
    shell = workflow["defaults"]["run"]["shell"]
    return shell, [s for s in workflow["jobs"]["reap"]["steps"] if "run" in s and s["run"] != "make setup"]


def _run_job(tmp_path, answers):
    """The reaper job's listing and reap steps, in order, under the workflow's shell; a failed step
    ends the job as on GitHub. ansible-playbook is a recorder: returns (rc per step, calls)."""
    project = tmp_path / "project"
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / "scripts").mkdir()
    os.symlink(SCRIPT, project / "scripts" / "open-pull-requests.sh")
    calls = tmp_path / "playbook-calls"
    recorder = project / ".venv" / "bin" / "ansible-playbook"
    recorder.write_text("#!/usr/bin/env bash\necho \"$*\" >> %s\n" % shlex.quote(str(calls)))
    recorder.chmod(0o755)
    env = _answers(tmp_path, answers)
    env.update(RUNNER_TEMP=str(tmp_path), OWNER="tachyonapp", TTL_HOURS="72", GH_TOKEN="x")
    shell, steps = _job_steps()
    results = []
    for step in steps:
        script = tmp_path / "step.sh"
        script.write_text(step["run"])
        argv = [str(script) if token == "{0}" else token for token in shlex.split(shell)]
        proc = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, check=False, timeout=60)
        results.append((proc.returncode, proc.stdout + proc.stderr))
        if proc.returncode:
            break
    return results, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize("case", ["gh-fails", "truncated-json", "error-object"])
def test_the_reaper_job_deletes_nothing_when_the_listing_fails(tmp_path, case):
    results, calls = _run_job(tmp_path, FAILING[case])
    assert len(results) == 1 and results[0][0] != 0, results  # the listing step failed, the job ended
    assert calls == []  # the reap playbook never ran
    assert "0 open pull request(s)" not in results[0][1]


def test_the_reaper_job_reaps_with_a_complete_listing(tmp_path):
    results, calls = _run_job(tmp_path, [_listing("tachyon-api", '[{"number":42}]'), _listing("tachyon-workers", "[]"),
                                         _listing("tachyon-db", "[]")])
    assert [rc for rc, _out in results] == [0, 0], results
    assert "1 open pull request(s)" in results[0][1]
    assert len(calls) == 1 and calls[0].startswith("playbooks/preview.yml -i inventories/staging")
    extra = json.loads((tmp_path / "reap-vars.json").read_text())
    assert extra["tachyon_preview_open"] == [{"__ansible_unsafe": "tachyonapp/tachyon-api#42"}]
