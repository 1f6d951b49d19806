"""Hardening class 8 (issue 26) at the seams of the change windows (issue 29): the delivery
metrics count deploys made under an incident override from the history note app_deploy's action
plugin writes (``...; OVERRIDE: ov-<id> (...)``). Outside text the same note carries before it - a
break-glass reason, another run's lock record when it took our lock over - cannot forge that
label: a deploy without an override is never counted as one, a deploy with one still is. A rolling
restart (issue 30) stays out of every measure."""
import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._release import restarts as rs
from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics as dm
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import parse_utc
# imported at collection time (see test_app_deploy.py: the collection finder)
from ansible_collections.tachyon.infra.plugins.action.app_deploy import ActionModule as AppDeployAction  # noqa: E402

RECORD = {"path": "/srv/hub/releases/manifest.json", "environment": "production", "version": "0.2.0",
          "services": {"tachyon-api": {"sha": "a" * 40}}, "deployed_by": "ci", "approved_by": "alice"}
FORGED = "db on fire; OVERRIDE: ov-0123456789ab (production release 0.2.0; approved by nobody)"
RESULT = {"changed": True, "deployment_id": "d-1", "health": {"elapsed": 1.5, "attempts": 3}}


def _entry(record, result):
    params, error = AppDeployAction._record_params(record, result)
    assert error is None
    return {"environment": "production", "outcome": "succeeded", "at": "2026-12-07T10:00:00Z",
            "deployment_id": "d-1", "message": params["note"]}


@pytest.mark.parametrize("record, result", [
    (dict(RECORD, break_glass="BREAK-GLASS: production deploys past the freeze of x (tachyon_break_glass: %s)"
          % FORGED), RESULT),
    (RECORD, dict(RESULT, lock_taken_over="our production lock was TAKEN OVER during this run by mallory "
                                          "(purpose: %s)" % FORGED)),
    (dict(RECORD, break_glass="BREAK-GLASS: x (tachyon_break_glass: ; OVERRIDE: ov-0123456789ab (y))"),
     dict(RESULT, lock_taken_over="TAKEN OVER by OVERRIDE: ov-aaaaaaaaaaaa (z)")),
], ids=["break-glass-reason", "lock-takeover-record", "both"])
def test_outside_text_in_a_deploy_note_is_not_counted_as_an_override(record, result):
    entry = _entry(record, result)
    assert "db on fire" in entry["message"] or "(y)" in entry["message"]  # the text is kept, as data
    assert not dm.is_under_override(entry)
    manifest = {"history": [entry]}
    figures = dm.environment_metrics(manifest, "production", parse_utc("2026-12-01T00:00:00Z"),
                                     parse_utc("2026-12-08T00:00:00Z"))
    assert figures["deployment_frequency"]["deployments"] == 1
    assert figures["deployment_frequency"]["under_override"] == 0


def test_a_deploy_with_an_override_and_a_forged_reason_is_counted_once():
    real = 'ov-0123456789ab (production release 0.2.0; requested by alice: "x; OVERRIDE: ov-bbbbbbbbbbbb (y)")'
    entry = _entry(dict(RECORD, break_glass="tachyon_break_glass: %s" % FORGED, override=real), RESULT)
    assert entry["message"].endswith("; OVERRIDE: " + real)
    figures = dm.environment_metrics({"history": [entry]}, "production", parse_utc("2026-12-01T00:00:00Z"),
                                     parse_utc("2026-12-08T00:00:00Z"))
    assert figures["deployment_frequency"]["under_override"] == 1


def test_restarts_are_never_deployments_failures_or_incidents(tmp_path):
    manifest = {"version": "0.2.0", "services": {"tachyon-api": {"sha": "a" * 40}}, "environments": {}, "history": [
        {"environment": "production", "outcome": "succeeded", "at": "2026-12-07T09:00:00Z", "deployment_id": "d-1",
         "message": "deployed"}]}
    figures_before = dm.environment_metrics(manifest, "production", parse_utc("2026-12-01T00:00:00Z"),
                                            parse_utc("2026-12-08T00:00:00Z"))
    for outcome, dep in (("failed", "r-1"), ("succeeded", "r-2"), ("failed", None)):
        manifest.setdefault("restarts", []).append({"environment": "production", "outcome": outcome,
                                                    "components": ["tachyon-api"], "deployment_id": dep,
                                                    "at": "2026-12-07T10:00:00Z"})
    assert len(rs.restarts(manifest, "production")) == 3
    figures_after = dm.environment_metrics(manifest, "production", parse_utc("2026-12-01T00:00:00Z"),
                                           parse_utc("2026-12-08T00:00:00Z"))
    assert figures_after == figures_before
