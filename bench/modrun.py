"""Run a tachyon.infra module the way Ansible runs it: a Python process reading its arguments.

Ansible sends a module its arguments as ``{"ANSIBLE_MODULE_ARGS": {...}}``; AnsibleModule
reads them from the file named by argv[1] (or stdin). The benchmarks start the module file
with the venv's Python and that file, so the timed work is the module's own (argument
parsing, polling, result JSON, interpreter exit) without Ansible's controller around it.
``run_in_process`` calls a module's ``main()`` in this process (no interpreter start) for
the scale benchmark, where the per-item cost is the point.
"""
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time

from bench import ROOT

COLLECTIONS = os.path.join(ROOT, ".collections")
MODULES = os.path.join(ROOT, "plugins", "modules")


def module_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([COLLECTIONS] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def start_module(name, args, tmpdir):
    """Popen of plugins/modules/<name>.py with ``args``; returns (process, args_path)."""
    handle, path = tempfile.mkstemp(prefix="%s-" % name, suffix=".json", dir=tmpdir)
    with os.fdopen(handle, "w") as out:
        json.dump({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_remote_tmp=tmpdir,
                                               _ansible_tmpdir=tmpdir)}, out)
    proc = subprocess.Popen([sys.executable, os.path.join(MODULES, name + ".py"), path],
                            cwd=tmpdir, env=module_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc, path


def finish(proc, path, timeout):
    """Wait for the module; returns (exit time, result dict)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        ended = time.time()
        os.unlink(path)
    try:
        result = json.loads(out)
    except ValueError:
        result = {"failed": True, "msg": "no JSON result (rc %s): %s %s" % (proc.returncode, out[-500:], err[-500:])}
    return ended, result


def run_in_process(module, args):
    """Call ``module.main()`` with ``args`` here; returns the result dict it prints."""
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    basic._ANSIBLE_PROFILE = "legacy"  # what the module-debugging entry point uses too
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            try:
                module.main()
            except SystemExit:
                pass
    finally:
        basic._ANSIBLE_ARGS = basic._ANSIBLE_PROFILE = None
    return json.loads(out.getvalue())
