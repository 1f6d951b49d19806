"""The wrappers (scripts/*.sh), run as a user runs them, from a directory outside the checkout
(issue 17, deliverable 6):

- -h/--help anywhere in the arguments prints the usage and does nothing else (exit 0);
- a wrong number of arguments, an unknown option or an option that would make the wrapper's
  report untrue exits 2 with the reason on the LAST line, before anything runs;
- success messages only after success (a --check run says what it did not do).

Refusals are checked before ansible-playbook starts, so most of these tests take well under a
second; the few that run a playbook use a scratch manifest.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts")
SHAS = ["abc1234", "def5678", "0a1b2c3"]
WRAPPERS = ["create-release.sh", "validate-env.sh", "upgrade-manifest.sh", "setup.sh", "demo.sh",
            "provision-docker.sh", "provision-registry.sh", "provision-browser.sh", "actionlint.sh", "drift.sh"]

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, ".venv", "bin", "ansible-playbook")),
                                reason="run `make setup` first: the wrappers use the checkout's .venv")


class Result:
    def __init__(self, proc, seconds):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.lines = proc.stdout.rstrip("\n").splitlines()
        self.last = self.lines[-1] if self.lines else ""
        self.seconds = seconds

    def __repr__(self):
        return "rc=%d after %.1fs, %d line(s):\n%s" % (self.rc, self.seconds, len(self.lines), self.out[-4000:])


def script(name, *args, cwd):
    """bash scripts/<name> <args> from ``cwd``; stdout and stderr interleaved as a terminal shows them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "VIRTUAL_ENV"))}
    env["ANSIBLE_NOCOLOR"] = "1"
    start = time.monotonic()
    proc = subprocess.run(["bash", os.path.join(SCRIPTS, name)] + list(args), cwd=str(cwd), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600, check=False)
    result = Result(proc, time.monotonic() - start)
    print("$ %s %s\n%r" % (name, " ".join(args), result))
    return result


def header(name):
    """The usage text: the script's header comment, as --help prints it."""
    lines = []
    with open(os.path.join(SCRIPTS, name)) as handle:
        for number, line in enumerate(handle):
            if number == 0:
                continue
            if not line.startswith("#"):
                break
            lines.append(line[2:].rstrip("\n") if line.startswith("# ") else line[1:].rstrip("\n"))
    return "\n".join(lines) + "\n"


@pytest.fixture
def scratch(tmp_path):
    manifest = tmp_path / "releases" / "manifest.json"
    manifest.parent.mkdir()
    shutil.copy(os.path.join(ROOT, "releases", "manifest.json"), str(manifest))
    return manifest


# --------------------------------------------------------------------------------- help
@pytest.mark.parametrize("name,args", [
    # issue 17: `create-release.sh 5.0.0 <shas> --help` exits 0 saying "Commit and push the
    # manifest" though nothing was pinned
    ("create-release.sh", ["5.0.0"] + SHAS + ["--help"]),
    ("create-release.sh", ["5.0.0"] + SHAS + ["-e", "manifest_path={manifest}", "-h"]),
    ("create-release.sh", ["--help", "5.0.0"]),
    ("create-release.sh", ["5.0.0"] + SHAS + ["-vh"]),
    # issue 17: `validate-env.sh -v --help` prints "All environment files are consistent."
    # having checked nothing
    ("validate-env.sh", ["-v", "--help"]),
    ("validate-env.sh", ["-e", "validate_root=/nonexistent", "-h"]),
    ("upgrade-manifest.sh", ["{manifest}", "--check", "--help"]),
    ("setup.sh", ["-e", "repos_dir={tmp}/siblings", "--help"]),
    ("demo.sh", ["--help"]),
    ("demo.sh", ["-h", "extra"]),
    # these two would otherwise install Docker / actionlint before looking at their arguments
    ("provision-docker.sh", ["--help"]),
    ("provision-registry.sh", ["--help"]),
    ("actionlint.sh", [".github/workflows/deploy-prod.yml", "-h"]),
    ("drift.sh", ["-i", "inventories/sandbox", "-l", "staging", "--help"]),
], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_help_anywhere_prints_the_usage_and_does_nothing_else(tmp_path, scratch, name, args):
    before = scratch.read_bytes()
    args = [a.format(manifest=scratch, tmp=tmp_path) for a in args]
    res = script(name, *args, cwd=tmp_path)
    assert res.rc == 0, res
    assert res.out == header(name), res
    assert scratch.read_bytes() == before
    assert not (tmp_path / "siblings").exists()
    assert sorted(os.listdir(str(scratch.parent))) == ["manifest.json"]  # no backup, no lock


# --------------------------------------------------------------------------------- usage errors
@pytest.mark.parametrize("name,args,reason", [
    ("create-release.sh", ["0.2.0", "abc1234"],
     "create-release.sh: error: expected 4 argument(s) before any option, got 2"),
    ("create-release.sh", [],
     "create-release.sh: error: expected 4 argument(s) before any option, got 0"),
    ("create-release.sh", ["-e", "x=1", "0.2.0"] + SHAS,
     "create-release.sh: error: expected 4 argument(s) before any option, got 0"),
    ("create-release.sh", ["0.2.0"] + SHAS + ["stray", "-e", "manifest_path={manifest}"],
     "create-release.sh: error: unexpected argument 'stray' (expected 4 argument(s) before any option, got 5)"),
    # issue 17: a stray argument's "unrecognized arguments" sat on line 20 of 142, under
    # ansible-playbook's usage, while the last line said only "the reason is above"
    ("create-release.sh", ["0.2.0"] + SHAS + ["-e", "manifest_path={manifest}", "stray"],
     "create-release.sh: error: unrecognized arguments: stray"),
    ("create-release.sh", ["0.2.0", "", "def5678", "0a1b2c3"], "create-release.sh: error: an argument is empty"),
    ("create-release.sh", ["0.2.0"] + SHAS + ["--bogus"], "create-release.sh: error: unrecognized arguments: --bogus"),
    ("create-release.sh", ["0.2.0"] + SHAS + ["-e"],
     "create-release.sh: error: argument -e/--extra-vars: expected one argument"),
    ("create-release.sh", ["0.2.0"] + SHAS + ["--tags", "x"],
     "create-release.sh: error: --tags would run only part of playbooks/release.yml, so this command's "
     "result would not mean what it reports; run `ansible-playbook playbooks/release.yml --tags ...` directly"),
    ("create-release.sh", ["0.2.0"] + SHAS + ["--version"],
     "create-release.sh: error: --version prints ansible-playbook's version instead of running anything; "
     "run `ansible-playbook --version`"),
    ("validate-env.sh", ["--bogus"], "validate-env.sh: error: unrecognized arguments: --bogus"),
    ("validate-env.sh", ["stray"],
     "validate-env.sh: error: unexpected argument 'stray' (validate-env.sh takes no arguments, only "
     "ansible-playbook options)"),
    ("validate-env.sh", ["-v", "--skip-tags", "env_schema"],
     "validate-env.sh: error: --skip-tags would run only part of playbooks/validate.yml, so this command's "
     "result would not mean what it reports; run `ansible-playbook playbooks/validate.yml --skip-tags ...` directly"),
    ("validate-env.sh", ["--syntax-check"],
     "validate-env.sh: error: --syntax-check runs nothing (ansible-playbook only lists or checks "
     "playbooks/validate.yml); run `ansible-playbook playbooks/validate.yml --syntax-check` directly"),
    ("upgrade-manifest.sh", ["{manifest}", "other.json"],
     "upgrade-manifest.sh: error: unexpected argument 'other.json' (expected at most 1 argument(s) before any "
     "option, got 2)"),
    ("upgrade-manifest.sh", ["{tmp}/none.json"], "upgrade-manifest.sh: error: {tmp}/none.json: no such file"),
    ("upgrade-manifest.sh", ["{manifest}", "--list-hosts"],
     "upgrade-manifest.sh: error: --list-hosts runs nothing (ansible-playbook only lists or checks "
     "playbooks/upgrade_manifest.yml); run `ansible-playbook playbooks/upgrade_manifest.yml --list-hosts` directly"),
    ("setup.sh", ["-l", "nothing"],
     "setup.sh: error: --limit would run only part of playbooks/setup.yml, so this command's result would not "
     "mean what it reports; run `ansible-playbook playbooks/setup.yml --limit ...` directly"),
    ("setup.sh", ["here"],
     "setup.sh: error: unexpected argument 'here' (setup.sh takes no arguments, only ansible-playbook options)"),
    ("demo.sh", ["now"], "demo.sh: error: unexpected argument 'now' (demo.sh takes no arguments)"),
    ("demo.sh", ["-e", "x=1"], "demo.sh: error: unexpected option '-e' (demo.sh takes no options)"),
    ("provision-docker.sh", ["now"],
     "provision-docker.sh: error: unexpected argument 'now' (provision-docker.sh takes no arguments)"),
    ("provision-registry.sh", ["now"],
     "provision-registry.sh: error: unexpected argument 'now' (provision-registry.sh takes no arguments)"),
    ("actionlint.sh", [".github/workflows/deploy-prod.yml", "-color"],
     "actionlint.sh: error: unexpected option '-color' (actionlint.sh takes workflow files only)"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else (v if v.endswith(".sh") else None))
def test_usage_errors_exit_2_with_the_reason_on_the_last_line(tmp_path, scratch, name, args, reason):
    before = scratch.read_bytes()
    args = [a.format(manifest=scratch, tmp=tmp_path) for a in args]
    res = script(name, *args, cwd=tmp_path)
    assert res.rc == 2, res
    assert res.last == reason.format(tmp=tmp_path), res
    # the usage, a pointer to --help, the reason: nothing ran, nothing else was printed
    assert len(res.lines) == 3 and res.lines[0].startswith("Usage: "), res
    assert res.lines[1] == "Run %s --help for the details." % name, res
    assert "PLAY" not in res.out and "[setup]" not in res.out, res
    assert scratch.read_bytes() == before
    assert sorted(os.listdir(str(scratch.parent))) == ["manifest.json"]


def test_every_wrapper_is_covered():
    names = sorted(n for n in os.listdir(SCRIPTS) if n.endswith(".sh")
                   and "playbook-wrapper.sh" in open(os.path.join(SCRIPTS, n)).read())
    assert names == sorted(WRAPPERS)


# --------------------------------------------------------------------------------- success messages
def test_create_release_check_mode_says_nothing_was_written(tmp_path, scratch):
    before = scratch.read_bytes()
    res = script("create-release.sh", "5.0.0", *SHAS, "-e", "manifest_path=%s" % scratch, "--check", cwd=tmp_path)
    assert res.rc == 0, res
    assert "Commit and push" not in res.out, res
    assert res.last == "Check mode (--check): nothing was written; run again without --check to pin the release."
    assert scratch.read_bytes() == before


def test_create_release_refused_prints_no_success_message(tmp_path, scratch):
    before = scratch.read_bytes()
    res = script("create-release.sh", "5.0.0", "abc1234", "def5678", "ghi9012", "-e", "manifest_path=%s" % scratch,
                 cwd=tmp_path)
    assert res.rc == 1, res
    assert "Commit and push" not in res.out and "'ghi9012' is not a git SHA" in res.out, res
    assert res.last.startswith("[ERROR] create-release failed"), res
    assert scratch.read_bytes() == before


def test_create_release_success_message_after_the_release_is_pinned(tmp_path, scratch):
    res = script("create-release.sh", "5.0.0", *SHAS, "-e", "manifest_path=%s" % scratch, cwd=tmp_path)
    assert res.rc == 0, res
    assert res.last == "Commit and push the manifest before triggering a deployment.", res
    data = json.loads(scratch.read_text())
    assert data["version"] == "5.0.0"
    assert [pin["sha"] for pin in data["services"].values()] == SHAS
