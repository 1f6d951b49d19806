"""plugin_utils/in_process: when an action plugin runs its module's logic in the worker process,
and that it then validates, masks and fails exactly as the module would."""
from types import SimpleNamespace

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._platform import health
from ansible_collections.tachyon.infra.plugins.plugin_utils.in_process import run_module_logic, runs_here


def action(args=None, connection="local", become=False, async_val=0, environment=None, check_mode=False, diff=False):
    calls = []

    def execute_module(**kwargs):
        calls.append(kwargs)
        return {"changed": False, "ran": "module"}

    return SimpleNamespace(
        _play_context=SimpleNamespace(connection=connection, become=become),
        _task=SimpleNamespace(action="tachyon.infra.health_check", args=args or {}, async_val=async_val,
                              environment=[{}] if environment is None else environment, check_mode=check_mode,
                              diff=diff),
        _connection=SimpleNamespace(has_native_async=False, _shell=SimpleNamespace(tmpdir=None)),
        _remove_tmp_path=lambda path: None, _execute_module=execute_module, calls=calls)


@pytest.mark.parametrize("kwargs,expected", [
    ({}, True),
    ({"connection": "ansible.builtin.local"}, True),
    ({"environment": []}, True),
    ({"connection": "ssh"}, False),
    ({"become": True}, False),
    ({"async_val": 30}, False),
    ({"environment": [{}, {"https_proxy": "http://proxy:3128"}]}, False),
])
def test_runs_here_only_for_a_plain_local_task(kwargs, expected):
    assert runs_here(action(**kwargs)) is expected


def test_elsewhere_the_module_runs():
    act = action({"url": "http://x/health"}, connection="ssh")
    assert run_module_logic(act, health.ARGUMENT_SPEC, health.check, {"v": 1}) == {"changed": False, "ran": "module"}
    assert act.calls == [{"module_name": "tachyon.infra.health_check", "module_args": {"url": "http://x/health"},
                          "task_vars": {"v": 1}, "wrap_async": False}]
    act = action({"url": "http://x/health"}, async_val=60)
    run_module_logic(act, health.ARGUMENT_SPEC, health.check, {})
    assert act.calls[0]["wrap_async"] is True


def test_arguments_are_validated_with_the_modules_spec():
    result = run_module_logic(action({"url": "http://x/health", "consecutiv": 2}), health.ARGUMENT_SPEC,
                              health.check, {})
    assert result["failed"] and "consecutiv" in result["msg"] and "Supported parameters include" in result["msg"]
    result = run_module_logic(action({"url": "ftp://x"}), health.ARGUMENT_SPEC, health.check, {})
    assert result["failed"] and "must start with http:// or https://" in result["msg"]


def test_no_log_values_are_masked_and_failure_is_reported():
    def logic(params, check_mode, diff):
        return True, {"changed": False, "msg": "sent %s" % params["headers"]["Authorization"]}

    result = run_module_logic(action({"url": "http://x", "headers": {"Authorization": "Bearer s3cr3t"}}),
                              health.ARGUMENT_SPEC, logic, {})
    assert result["failed"] is True and "s3cr3t" not in str(result)


def test_check_mode_reaches_the_logic():
    result = run_module_logic(action({"url": "http://127.0.0.1:9/health", "skip_in_check_mode": True}, check_mode=True),
                              health.ARGUMENT_SPEC, health.check, {})
    assert result["skipped"] is True and result["status"] == "skipped" and "failed" not in result


def test_release_manifest_in_process_keeps_required_if_check_mode_and_diff(tmp_path):
    import json
    import os

    from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest_task
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = tmp_path / "manifest.json"
    path.write_text(open(os.path.join(root, "releases", "manifest.json")).read())
    before = path.read_text()

    def run(args, **kw):
        return run_module_logic(action(dict(args, path=str(path)), **kw), manifest_task.ARGUMENT_SPEC,
                                manifest_task.execute, {}, required_if=manifest_task.REQUIRED_IF)

    result = run({"state": "recorded"})
    assert result["failed"] and "environment" in result["msg"] and "outcome" in result["msg"]
    record = {"state": "recorded", "environment": "staging", "outcome": "failed", "note": "boom", "at": "2026-01-01T00:00:00Z"}
    result = run(record, check_mode=True, diff=True)
    assert result["changed"] and "boom" in result["diff"]["after"] and path.read_text() == before
    result = run(record)
    assert result["changed"] and "diff" not in result and json.loads(path.read_text())["history"][-1]["message"] == "boom"
    assert run(record)["changed"] is False
