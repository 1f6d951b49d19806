"""module_utils/_report/metrics.py + git_cache.py on the synthetic history of
tests/fixtures/history/synthetic.py, against figures computed by hand below."""
import datetime
import sys
from pathlib import Path

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics as dm
from ansible_collections.tachyon.infra.plugins.module_utils._git.cache import GitCache
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import parse_utc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "history"))
import synthetic  # noqa: E402

H = 3600
D = 86400
UNTIL = parse_utc(synthetic.UNTIL)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("history")
    shas, urls = synthetic.make_repos(base)
    cache = GitCache(str(base / "cache"))
    return synthetic.manifest(shas), dm.cache_commits(cache, urls), shas, base


def test_production_over_30_days_equals_the_hand_computed_figures(world):
    manifest, commits, _shas, _base = world
    prod = dm.metrics(manifest, "30d", UNTIL, commits=commits)["environments"]["production"]
    # succeeded production attempts: p-1, p-3, p-4, p-5 -> 4 in 30 days
    assert prod["deployment_frequency"] == {"deployments": 4, "rollbacks_to_version": 0, "refusals": 0, "under_override": 0,
                                            "days": 30.0,
                                            "per_day": round(4 / 30, 4), "per_week": round(28 / 30, 4)}
    # 8 attempts; failed p-2, p-6 and rolled_back p-2r, p-3r -> 4 / 8
    assert prod["change_failure_rate"] == {"attempts": 8, "failures": 4, "rate": 0.5}
    # incidents: p-2 (04-03 00:00) .. p-3 (04-04 00:00) = 24 h; p-3r (04-05 00:00) .. p-4 (06:00)
    # = 6 h; p-6 (04-07) still open
    assert prod["time_to_restore"] == {"incidents": 3, "restored": 2, "open": 1,
                                       "median_seconds": 15 * H, "mean_seconds": 15 * H}
    # commits first delivered to production (deploy at - committer date):
    #   p-1 0.1.0: a1 (04-01 00:00) 24 h, w1 (04-01 06:00) 18 h      (nothing ran before: head only)
    #   p-3 0.2.1: a2 (04-02 00:00) 48 h, a3 (04-03 12:00) 12 h      (a1..a3; w1 unchanged)
    #   p-4 0.2.1 after the rollback to a1: a2, a3 already delivered -> nothing
    #   p-5 0.3.0: a4 (04-04 00:00) 48 h, w2 (04-03 00:00) 72 h
    lead = prod["lead_time"]
    assert (lead["commits"], lead["deployments"], lead["missing_commits"]) == (6, 3, 0)
    assert lead["median_seconds"] == (24 * H + 48 * H) / 2  # sorted 12 18 24 48 48 72
    assert lead["mean_seconds"] == (24 + 18 + 48 + 12 + 48 + 72) * H / 6
    assert (lead["min_seconds"], lead["max_seconds"]) == (12 * H, 72 * H)


def test_staging_over_30_days(world):
    manifest, commits, _shas, _base = world
    stg = dm.metrics(manifest, "30d", UNTIL, commits=commits)["environments"]["staging"]
    assert stg["deployment_frequency"]["deployments"] == 5
    assert stg["change_failure_rate"] == {"attempts": 5, "failures": 0, "rate": 0.0}
    assert stg["time_to_restore"] == {"incidents": 0, "restored": 0, "open": 0,
                                      "median_seconds": None, "mean_seconds": None}
    # a1 12h, w1 6h (s-1); a2 12h (s-2); a3 6h (s-3); a4 36h, w2 60h (s-4); a5 6h (s-5)
    lead = stg["lead_time"]
    assert (lead["commits"], lead["deployments"]) == (7, 5)
    assert lead["median_seconds"] == 12 * H
    assert lead["mean_seconds"] == pytest.approx((12 + 6 + 12 + 6 + 36 + 60 + 6) * H / 7)


def test_a_narrower_window_counts_only_its_attempts(world):
    manifest, commits, _shas, _base = world
    result = dm.metrics(manifest, "2026-04-04T12:00:00Z", UNTIL, commits=commits)
    assert result["window"] == {"since": "2026-04-04T12:00:00Z", "until": "2026-04-10T00:00:00Z",
                                "days": 5.5, "given": "2026-04-04T12:00:00Z"}
    prod = result["environments"]["production"]
    # in the window: p-3r (rolled_back), p-4, p-5 (succeeded), p-6 (failed)
    assert prod["deployment_frequency"]["deployments"] == 2
    assert prod["deployment_frequency"]["per_day"] == round(2 / 5.5, 4)
    assert prod["change_failure_rate"] == {"attempts": 4, "failures": 2, "rate": 0.5}
    assert prod["time_to_restore"]["incidents"] == 2
    assert prod["time_to_restore"]["restored"] == 1 and prod["time_to_restore"]["median_seconds"] == 6 * H
    # only p-5 delivers (a4 48 h, w2 72 h); a2/a3 were delivered by p-3 before the window
    assert prod["lead_time"]["commits"] == 2 and prod["lead_time"]["median_seconds"] == 60 * H


def test_without_remotes_lead_time_is_unavailable_and_says_why(world):
    manifest = world[0]
    lead = dm.metrics(manifest, "30d", UNTIL)["environments"]["production"]["lead_time"]
    assert lead["available"] is False and lead["median_seconds"] is None
    assert "no service remotes" in lead["reason"]


def test_a_sha_the_remote_lacks_is_counted_missing(world):
    manifest, _commits, shas, base = world
    cache = GitCache(str(base / "cache2"))
    _s, urls = shas, {synthetic.API: "file://%s/remotes/tachyon-api.git" % base}  # no workers remote
    lead = dm.metrics(manifest, "30d", UNTIL, commits=dm.cache_commits(cache, urls))[
        "environments"]["production"]["lead_time"]
    assert lead["commits"] == 4  # the api commits only
    assert lead["missing_commits"] == 2  # w1 (p-1) and w2 (p-5) could not be read
    assert any("tachyon-workers" in p for p in lead["problems"])


def test_a_fetch_error_never_shows_the_remote_url(tmp_path, world):
    manifest = world[0]
    cache = GitCache(str(tmp_path / "c"))
    secret_url = "https://x-access-token:ghp_notreal123456@127.0.0.1:1/tachyon-api.git"  # pragma: allowlist secret
    lead = dm.metrics(manifest, "30d", UNTIL, commits=dm.cache_commits(
        cache, {synthetic.API: secret_url, synthetic.WORKERS: secret_url}))["environments"]["production"]["lead_time"]
    assert lead["commits"] == 0 and lead["problems"]
    assert "ghp_notreal" not in repr(lead) and "x-access-token" not in repr(lead)


@pytest.mark.parametrize("since,expected", [
    ("30d", UNTIL - datetime.timedelta(days=30)), ("12h", UNTIL - datetime.timedelta(hours=12)),
    ("2w", UNTIL - datetime.timedelta(days=14)), ("90m", UNTIL - datetime.timedelta(minutes=90)),
    ("2026-04-01", parse_utc("2026-04-01T00:00:00Z")),
])
def test_since_forms(since, expected):
    assert dm.parse_since(since, UNTIL) == expected


def test_since_all_starts_at_the_first_attempt(world):
    assert dm.metrics(world[0], "all", UNTIL)["window"]["since"] == "2026-04-01T12:00:00Z"


@pytest.mark.parametrize("bad", ["yesterday", "30", "-3d", "2026-13"])
def test_a_bad_since_is_refused_with_the_forms(bad):
    with pytest.raises(dm.MetricsError, match="30d, 12h, 2w, 90m"):
        dm.parse_since(bad, UNTIL)


def test_text_gives_each_figure_with_its_count(world):
    manifest, commits, _shas, _base = world
    out = dm.text(dm.metrics(manifest, "30d", UNTIL, commits=commits))
    assert "production\n  deployment frequency   0.13/day (0.93/week)     " in out
    assert "from 4 successful deployments in 30 days" in out
    assert "median 1d 12h, mean 1d 13h" in out and "from 6 commits in 3 deployments" in out
    assert "50.0%" in out and "from 4 failed or rolled back of 8 attempts" in out
    assert "median 15h 0m, mean 15h 0m" in out and "from 2 restored incidents (1 still open)" in out


@pytest.mark.parametrize("seconds,text", [(None, "-"), (5, "5s"), (125, "2m 5s"), (7500, "2h 5m"),
                                          (90000, "1d 1h")])
def test_duration(seconds, text):
    assert dm.duration(seconds) == text


def test_a_rollback_to_a_version_is_a_failure_that_restores_and_delivers_nothing(world):
    """rollback.yml -e tachyon_rollback_version=... records a succeeded attempt with the optional
    rollback_of_version (the notes helper's field). Appended to the synthetic history:
    04-08 00:00 production succeeded 0.3.0 again, rollback_of_version 0.4.0 (closes p-6's incident
    opened 04-07 00:00: 24 h); 04-09 00:00 production 0.4.0 succeeded (a5 first delivered:
    04-09 00:00 - 04-06 06:00 = 66 h)."""
    import copy
    manifest, commits, _shas, _base = world
    m = copy.deepcopy(manifest)
    ran = {e["deployment_id"]: e["services"] for e in m["history"]}
    back = dict(m["history"][-3], at="2026-04-08T00:00:00Z", deployment_id="p-7", version="0.3.0",
                services=ran["p-5"], rollback_of_version="0.4.0")
    again = dict(m["history"][-3], at="2026-04-09T00:00:00Z", deployment_id="p-8", version="0.4.0",
                 services=ran["s-5"])
    m["history"] += [back, again]
    prod = dm.metrics(m, "30d", UNTIL, commits=commits)["environments"]["production"]
    assert prod["deployment_frequency"]["deployments"] == 5 and prod["deployment_frequency"]["rollbacks_to_version"] == 1
    assert prod["change_failure_rate"] == {"attempts": 10, "failures": 5, "rate": 0.5}
    assert prod["time_to_restore"] == {"incidents": 3, "restored": 3, "open": 0,
                                       "median_seconds": 24 * H, "mean_seconds": (24 + 6 + 24) * H / 3}
    lead = prod["lead_time"]
    assert (lead["commits"], lead["deployments"]) == (7, 4)
    assert lead["max_seconds"] == 72 * H and sorted([12, 18, 24, 48, 48, 72, 66])[3] * H == lead["median_seconds"]
