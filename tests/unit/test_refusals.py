"""Hardening class 8 (issue 26): an attempt that deployed nothing (recorded ``failed`` with no
deployment: a gate, a freeze, the lock or the in-flight guard refused it) is a refusal, not a
deployment, in every delivery measure and in the report. The issue's example was one refused
production deploy turning a 0% change failure rate into 50% and opening an incident; these
are others: staging, several refusals, a refusal inside an open incident, a refusal after a
rollback, and the HTML report's timeline and "last attempt" badge."""
import os
import sys

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._common.times import parse_utc
from ansible_collections.tachyon.infra.plugins.module_utils._release import history as rh
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics as dm
from ansible_collections.tachyon.infra.plugins.module_utils._report import report as html_report

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fixtures"))
import service_catalog as catalog  # noqa: E402  (fixture helper, not a package)

SHAS = {"tachyon-api": "4a091424887308027935eb247097d4ffd77c8f99",
        "tachyon-workers": "2f9e050447ffe25d88c4035db2d4bb3f9987b7ff",
        "tachyon-db-migrate": "9252ea24498a84c0fdcdc75be8ea8182caebb176"}
UNTIL = "2026-03-01T00:00:00Z"


def _history(env, attempts):
    """``attempts``: (outcome, day, deployment id or None, rolled_back_to or None)."""
    doc = mf.create_release(None, "1.0.0", SHAS, now="2026-02-01T00:00:00Z", **catalog.RELEASE_ARGS)
    services = {n: {"sha": s} for n, s in SHAS.items()}
    for outcome, day, dep, back in attempts:
        doc = mf.record_deployment(doc, env, outcome, deployment_id=dep, rolled_back_to=back,
                                   services=services if outcome != "rolled_back" else None,
                                   deployed_by="tester", approved_by="boss" if env == "production" else None,
                                   health_verified_at="2026-02-%02dT00:00:00Z" % day if outcome == "succeeded" else None,
                                   message="refused by the promotion gate" if dep is None else None,
                                   at="2026-02-%02dT00:00:00Z" % day)
    return doc


def _figures(doc, env):
    return dm.metrics(doc, since="30d", until=parse_utc(UNTIL), environments=[env])["environments"][env]


CASES = {
    # staging: a refusal between two successes
    "staging-one": ("staging", [("succeeded", 2, "dep-1", None), ("failed", 3, None, None),
                                ("succeeded", 4, "dep-2", None)],
                    dict(deployments=2, refusals=1, attempts=2, failures=0, incidents=0)),
    # production: three refusals in a row (a freeze, the lock, a gate) after one success
    "production-three": ("production", [("succeeded", 2, "dep-1", None), ("failed", 3, None, None),
                                        ("failed", 4, None, None), ("failed", 5, None, None)],
                         dict(deployments=1, refusals=3, attempts=1, failures=0, incidents=0)),
    # a refusal inside an incident neither opens a second one nor ends it
    "inside-incident": ("staging", [("succeeded", 2, "dep-1", None), ("failed", 3, "dep-2", None),
                                    ("failed", 4, None, None), ("succeeded", 6, "dep-3", None)],
                        dict(deployments=2, refusals=1, attempts=3, failures=1, incidents=1, restored=1,
                             median=3 * 86400.0)),
    # after an automatic rollback, a refused retry is not a second failure
    "after-rollback": ("production", [("succeeded", 2, "dep-1", None), ("rolled_back", 3, "dep-2", "dep-1"),
                                      ("failed", 4, None, None)],
                       dict(deployments=1, refusals=1, attempts=2, failures=1, incidents=1, restored=0)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_attempts_are_no_deployment_failure_or_incident(case):
    env, attempts, want = CASES[case]
    figures = _figures(_history(env, attempts), env)
    freq, cfr, ttr = figures["deployment_frequency"], figures["change_failure_rate"], figures["time_to_restore"]
    assert freq["deployments"] == want["deployments"] and freq["refusals"] == want["refusals"]
    assert cfr["attempts"] == want["attempts"] and cfr["failures"] == want["failures"]
    assert ttr["incidents"] == want["incidents"]
    if "restored" in want:
        assert ttr["restored"] == want["restored"]
    if "median" in want:
        assert ttr["median_seconds"] == want["median"]
    text = dm.text({"window": {"since": "a", "until": UNTIL, "days": 30, "given": "30d"},
                    "environments": {env: figures}})
    assert "%d refused" % want["refusals"] in text


def test_the_report_shows_a_refusal_as_refused_not_failed():
    doc = _history("production", [("succeeded", 2, "dep-1", None), ("failed", 3, None, None)])
    svg = html_report.timeline_svg(doc, parse_utc(UNTIL))
    assert svg.count('class="attempt refused"') == 1 and 'class="attempt failed"' not in svg
    view = rh.history_view(doc)
    cells = [html_report._attempt_cell(slot) for release in view["releases"]
             for slot in release["environments"].values() if slot]
    assert any('badge refused' in cell for cell in cells) and not any('badge failed' in cell for cell in cells)
