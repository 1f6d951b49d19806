"""roles/validate/files/bin/ansible-playbook: ansible-lint's syntax checks served by a
pre-imported process give exactly what the real ansible-playbook gives."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIM_DIR = os.path.join(ROOT, "roles", "validate", "files", "bin")
VENV_BIN = os.path.dirname(sys.executable)

GOOD = """\
- name: Good
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: hello
"""
BROKEN = """\
- name: Broken
  hosts: localhost
  tasks:
    - name: Two actions
      ansible.builtin.debug:
        msg: hi
      bogus_keyword: 1
"""
# Calls ansible-playbook the way ansible-lint does (by name on PATH, from one parent
# process, stdin a pipe, output captured) and prints what each call gave.
DRIVER = """\
import json, os, subprocess, sys
state = os.path.join(os.environ["TMPDIR"], "tachyon-syntax-%d" % os.getuid())
out = []
for name in sys.argv[1:]:
    proc = subprocess.run(["ansible-playbook", "--syntax-check", "-vv", name], capture_output=True,
                          text=True, stdin=subprocess.PIPE)
    served = os.path.isdir(state) and any(f.endswith(".sock") for f in os.listdir(state))
    out.append([name, proc.returncode, proc.stdout, proc.stderr, served])
print(json.dumps(out))
"""


@pytest.fixture
def workdir():
    if not os.access(os.path.join(VENV_BIN, "ansible-playbook"), os.X_OK):
        pytest.skip("ansible-playbook is not installed beside %s" % sys.executable)
    # short path: a unix socket path is limited to 108 bytes
    path = tempfile.mkdtemp(prefix="tsyn-", dir="/tmp")
    with open(os.path.join(path, "good.yml"), "w") as handle:
        handle.write(GOOD)
    with open(os.path.join(path, "broken.yml"), "w") as handle:
        handle.write(BROKEN)
    with open(os.path.join(path, "driver.py"), "w") as handle:
        handle.write(DRIVER)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _drive(workdir, path_dirs, **extra_env):
    env = dict(os.environ, PATH=os.pathsep.join(path_dirs + [os.environ.get("PATH", "")]),
               TMPDIR=workdir, ANSIBLE_CONFIG=os.path.join(workdir, "none.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=os.path.join(workdir, "home"), **extra_env)
    proc = subprocess.run([sys.executable, "driver.py", "good.yml", "broken.yml", "missing.yml", "good.yml"],
                          cwd=workdir, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def test_served_syntax_checks_match_the_real_command(workdir):
    real = _drive(workdir, [VENV_BIN])
    served = _drive(workdir, [SHIM_DIR, VENV_BIN])
    assert [r[:4] for r in served] == [r[:4] for r in real]
    assert [r[1] for r in real] == [0, 4, 1, 0]
    assert "conflicting action statements" in real[1][3]
    assert "executable location = %s" % os.path.join(VENV_BIN, "ansible-playbook") in real[0][2]
    assert all(r[4] for r in served), "the calls were not served by the pre-imported process"
    assert not any(r[4] for r in real)


def test_switched_off_or_other_commands_run_the_real_one(workdir):
    off = _drive(workdir, [SHIM_DIR, VENV_BIN], TACHYON_SYNTAX_SERVER="0")
    assert not any(r[4] for r in off)
    assert [r[1] for r in off] == [0, 4, 1, 0]
    version = subprocess.run([os.path.join(SHIM_DIR, "ansible-playbook"), "--version"], capture_output=True,
                             text=True, env=dict(os.environ, PATH=SHIM_DIR + os.pathsep + VENV_BIN), check=False)
    assert version.returncode == 0 and "executable location = %s" % os.path.join(VENV_BIN, "ansible-playbook") \
        in version.stdout
