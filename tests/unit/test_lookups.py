"""The deploy role's controller-side lookups: git_ls_remote (against local bare repos, with the
deploy_repo_urls filter), rendered_app_spec; each also through a real ansible run."""
import json
import os
import subprocess
import sys

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.tachyon.infra.plugins.filter.deploy import deploy_repo_urls
from ansible_collections.tachyon.infra.plugins.lookup.git_ls_remote import ls_remote
# imported at collection time as well (the imports inside tests then find them in sys.modules): a
# plugin first imported after a test made ansible install its collection finder fails "collection
# metadata was not loaded" (order-dependent under xdist)
from ansible_collections.tachyon.infra.plugins.modules.app_spec import run as app_spec_run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _repo(tmp_path, name, branches=("main",)):
    """A bare repo whose branches each point at their own commit; returns (url, {branch: sha})."""
    src = tmp_path / "src" / name
    src.mkdir(parents=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(src)]
    subprocess.run(["git", "init", "-q", "-b", branches[0], str(src)], check=True)
    shas = {}
    for branch in branches:
        subprocess.run(git + ["checkout", "-q", "-B", branch], check=True)
        (src / "f").write_text(name + branch)
        subprocess.run(git + ["add", "."], check=True)
        subprocess.run(git + ["commit", "-qm", branch], check=True)
        shas[branch] = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    bare = tmp_path / "remotes" / (name + ".git")
    subprocess.run(["git", "clone", "-q", "--bare", str(src), str(bare)], check=True)
    return "file://%s" % bare, shas


def test_resolves_every_remote(tmp_path):
    api, api_shas = _repo(tmp_path, "api")
    workers, workers_shas = _repo(tmp_path, "workers", ("main", "release"))
    assert ls_remote({"api": api, "workers": workers}, "refs/heads/main") == \
        {"api": api_shas["main"], "workers": workers_shas["main"]}
    assert ls_remote({"workers": workers}, "refs/heads/release") == {"workers": workers_shas["release"]}


def test_only_the_exact_ref_counts(tmp_path):
    # ls-remote's pattern refs/heads/main also matches refs/heads/x/refs/heads/main
    url, shas = _repo(tmp_path, "api", ("x/refs/heads/main",))
    with pytest.raises(AnsibleLookupError, match=r"api \(file://.*\): the remote has no refs/heads/main"):
        ls_remote({"api": url}, "refs/heads/main")


def test_every_unresolvable_remote_is_named(tmp_path):
    good, _shas = _repo(tmp_path, "good")
    nobranch, _shas = _repo(tmp_path, "nobranch", ("develop",))
    missing = "file://%s" % (tmp_path / "remotes" / "missing.git")
    with pytest.raises(AnsibleLookupError) as err:
        ls_remote({"good": good, "nobranch": nobranch, "missing": missing}, "refs/heads/main")
    msg = str(err.value)
    assert "nobranch (%s): the remote has no refs/heads/main" % nobranch in msg
    assert "missing (%s): " % missing in msg and "tachyon_shas" in msg
    assert "good (" not in msg


def test_no_remotes_runs_nothing(monkeypatch):
    def no_git(*_args, **_kwargs):
        raise AssertionError("git must not run")
    monkeypatch.setattr("subprocess.Popen", no_git)
    assert ls_remote({}, "refs/heads/main") == {}


def ansible_eval(tmp_path, expr):
    """(rc, output, value): ``expr`` templated by a real ansible-playbook run with the repo's
    config; ``value`` is its result (JSON round trip), None when the run failed."""
    playbook, out_file = tmp_path / "eval.yml", tmp_path / "eval.json"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"ansible.builtin.copy": {"content": "{{ (%s) | to_json }}" % expr, "dest": str(out_file), "mode": "0600"}}]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    value = json.loads(out_file.read_text()) if proc.returncode == 0 else None
    return proc.returncode, proc.stdout + proc.stderr, value


def test_git_ls_remote_through_ansible(tmp_path):
    """The plugin as a playbook calls it: FQCN, dict term, ref option; a failure names the repo."""
    url, shas = _repo(tmp_path, "api")
    rc, out, value = ansible_eval(tmp_path, "lookup('tachyon.infra.git_ls_remote', {'api': '%s'}, ref='refs/heads/main')" % url)
    assert rc == 0 and value == {"api": shas["main"]}, out
    rc, out, _value = ansible_eval(tmp_path, "lookup('tachyon.infra.git_ls_remote', {'api': '%s'}, ref='refs/heads/nope')" % url)
    assert rc != 0 and "api (%s): the remote has no refs/heads/nope" % url in out, out


def test_repo_urls_from_the_catalog():
    services = [{"name": "tachyon-api", "repo": "tachyon-api"}, {"name": "tachyon-db-migrate", "repo": "tachyon-db"}]
    assert deploy_repo_urls(services, "https://github.com/org", {"tachyon-api": "file:///srv/api.git"}) == \
        {"tachyon-api": "file:///srv/api.git", "tachyon-db-migrate": "https://github.com/org/tachyon-db.git"}
    assert deploy_repo_urls([], "https://github.com/org") == {}


# --------------------------------------------------------------------------- rendered_app_spec
def test_rendered_app_spec_is_the_modules_rendering(tmp_path):
    """Same spec as app_spec state=rendered: images set, SECRET values blank; errors name the problem."""
    spec = os.path.join(ROOT, ".do", "app.staging.yml")
    images = {"api": {"tag": "4a09142"}, "workers": {"digest": "sha256:" + "a" * 64}, "db-migrate": {"tag": "9252ea2"}}
    module_result, msg = app_spec_run({"src": spec, "state": "rendered", "images": images})
    assert msg is None
    rc, out, rendered = ansible_eval(tmp_path, "lookup('tachyon.infra.rendered_app_spec', '%s', images=%s)"
                                     % (spec, json.dumps(images)))
    assert rc == 0, out
    assert rendered == module_result["spec"]
    assert rendered["services"][0]["image"]["tag"] == "4a09142"
    assert all(env.get("value", "") == "" for env in rendered["envs"] if env.get("type") == "SECRET")
    rc, out, _value = ansible_eval(tmp_path, "lookup('tachyon.infra.rendered_app_spec', '%s', images={'nope': {'tag': 'x'}})"
                                   % spec)
    assert rc != 0 and "cannot render %s: unknown component 'nope'" % spec in out, out
    rc, out, _value = ansible_eval(tmp_path, "lookup('tachyon.infra.rendered_app_spec', '%s', images={})"
                                   % (tmp_path / "missing.yml"))
    assert rc != 0 and "cannot load App Spec" in out and "missing.yml" in out, out


# --------------------------------------------------------------------------- release_manifest
def test_release_manifest_lookup_is_the_modules_read(tmp_path):
    """Same result as release_manifest state=read; a bad manifest fails naming the file."""
    from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
    path = os.path.join(ROOT, "releases", "manifest.json")
    rc, out, value = ansible_eval(tmp_path, "lookup('tachyon.infra.release_manifest', '%s')" % path)
    assert rc == 0, out
    assert value == json.loads(json.dumps(mf.read(path)))
    assert value["version"] == value["manifest"]["version"] and value["manifest_path"] == path
    bad = tmp_path / "manifest.json"
    bad.write_text(json.dumps(dict(json.load(open(path)), version="v1")))
    rc, out, _value = ansible_eval(tmp_path, "lookup('tachyon.infra.release_manifest', '%s')" % bad)
    assert rc != 0 and "%s does not match the release manifest schema" % bad in out and "$.version" in out, out
