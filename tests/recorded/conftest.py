"""Fixtures of the replay suite: a ReplayServer per test and a runner for the real modules."""
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from replay import TOKEN, ReplayServer  # noqa: E402 - tests/recorded is on sys.path (rootdir conftest)


@pytest.fixture()
def api():
    with ReplayServer() as server:
        yield server


@pytest.fixture()
def run_module(capsys):
    """Run a module's main() in this process as Ansible would; returns (result, failed)."""

    def run(module, **args):
        args.setdefault("token", TOKEN)
        with patch_module_args(args), pytest.raises(SystemExit) as exc:
            module.main()
        out = capsys.readouterr().out
        result = json.loads(out)
        result["_stdout"] = out
        return result, exc.value.code != 0

    return run
