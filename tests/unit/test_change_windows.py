"""Change windows and incident overrides (issue 29), with an injected clock: the windows'
parsing and validation (every malformed window named with its field), DST edges in
Europe/Berlin (the last Sundays of March and October 2026, a minute before and after each bound),
allow/deny precedence, rollbacks, the change window gate, and the override's life (requested,
approved by another person, consumed once; expired, another release, another environment,
self-approved: refused, naming why) in the file store and in a git remote's refs."""
import datetime
import json
import os
import subprocess

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._common.times import epoch
from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock
from ansible_collections.tachyon.infra.plugins.module_utils._plan import gates
from ansible_collections.tachyon.infra.plugins.module_utils._plan import overrides
from ansible_collections.tachyon.infra.plugins.module_utils._plan import plan
from ansible_collections.tachyon.infra.plugins.module_utils._plan import windows
# imported at collection time as well (the imports inside tests then find them in sys.modules): a
# plugin first imported after a test made ansible install its collection finder fails "collection
# metadata was not loaded" (order-dependent under xdist)
from ansible_collections.tachyon.infra.plugins.modules import change_override, change_windows

UTC = datetime.timezone.utc


def at(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def allowed(items, when, rollback=False):
    return windows.evaluate(windows.parse(items, at(when)), at(when), rollback)["allowed"]


NIGHT = {"name": "weekend night", "kind": "deny", "zone": "Europe/Berlin", "start": "Sat 22:00", "end": "Sun 06:00"}


# --------------------------------------------------------------------------- DST edges
@pytest.mark.parametrize("when, expected", [
    # last Sunday of March 2026 (29th): Sat 22:00 CET = 21:00Z, Sun 06:00 CEST = 04:00Z
    ("2026-03-28T20:59:00", True), ("2026-03-28T21:00:00", False), ("2026-03-28T21:01:00", False),
    ("2026-03-29T03:59:00", False), ("2026-03-29T04:00:00", True), ("2026-03-29T04:01:00", True),
    # last Sunday of October 2026 (25th): Sat 22:00 CEST = 20:00Z, Sun 06:00 CET = 05:00Z
    ("2026-10-24T19:59:00", True), ("2026-10-24T20:00:00", False), ("2026-10-24T20:01:00", False),
    ("2026-10-25T04:59:00", False), ("2026-10-25T05:00:00", True), ("2026-10-25T05:01:00", True),
])
def test_a_window_across_a_dst_change_keeps_its_wall_clock_bounds(when, expected):
    assert allowed([NIGHT], when) is expected


def test_bounds_the_clock_skips_or_reads_twice():
    berlin = windows.zoneinfo.ZoneInfo("Europe/Berlin")
    # 02:30 does not exist on 2026-03-29 (02:00 -> 03:00 CEST at 01:00Z): the jump's instant
    assert windows.to_utc(datetime.datetime(2026, 3, 29, 2, 30), berlin) == at("2026-03-29T01:00:00")
    # 02:30 happens twice on 2026-10-25 (00:30Z CEST, 01:30Z CET): its first reading
    assert windows.to_utc(datetime.datetime(2026, 10, 25, 2, 30), berlin) == at("2026-10-25T00:30:00")
    skipped = [{"name": "gap", "kind": "deny", "zone": "Europe/Berlin", "start": "2026-03-29 02:30",
                "end": "2026-03-29 04:00"}]
    assert allowed(skipped, "2026-03-29T00:59:00") and not allowed(skipped, "2026-03-29T01:00:00")
    assert not allowed(skipped, "2026-03-29T01:59:00") and allowed(skipped, "2026-03-29T02:00:00")
    # a daily night window over the October change is 9 hours long, not 8
    nightly = [{"name": "nights", "kind": "deny", "zone": "Europe/Berlin", "days": ["sat"], "start": "22:00",
                "end": "06:00"}]
    spans = windows.parse(nightly)[0].occurrences(at("2026-10-24T00:00:00"), at("2026-10-26T00:00:00"))
    assert spans == [(at("2026-10-24T20:00:00"), at("2026-10-25T05:00:00"))]


# --------------------------------------------------------------------------- deciding
def test_dated_weekly_and_daily_windows_and_what_the_refusal_says():
    items = [NIGHT, {"name": "year end", "kind": "deny", "zone": "Europe/Berlin", "start": "2026-12-19 18:00",
                     "end": "2027-01-04 08:00", "rollbacks": "deny"}]
    verdict = windows.evaluate(windows.parse(items, at("2026-12-21T10:00:00")), at("2026-12-21T10:00:00"))
    assert not verdict["allowed"] and verdict["window"]["name"] == "year end"
    assert verdict["reason"] == ("change window 'year end' (deny, Europe/Berlin) is in force (2026-12-19 18:00 - "
                                 "2027-01-04 08:00 Europe/Berlin): no deploys from Sat 2026-12-19 18:00 CET until "
                                 "Mon 2027-01-04 08:00 CET (2027-01-04T07:00:00Z)")
    assert verdict["allowed_from"] == {"utc": "2027-01-04T07:00:00Z", "local": "Mon 2027-01-04 08:00 CET"}
    assert verdict["next"]["name"] == "weekend night" and verdict["next"]["start_utc"] == "2026-12-26T21:00:00Z"
    # the year-end freeze forbids rollbacks; the weekend night allows them
    assert not allowed(items, "2026-12-21T10:00:00", rollback=True)
    assert allowed([NIGHT], "2026-03-28T22:00:00", rollback=True)
    # an end inside the next freeze: allowed again only after that one
    chained = [NIGHT, {"name": "sunday", "kind": "deny", "zone": "Europe/Berlin", "start": "Sun 05:00",
                       "end": "Sun 12:00"}]
    verdict = windows.evaluate(windows.parse(chained), at("2026-03-28T22:00:00"))
    assert verdict["allowed_from"]["utc"] == "2026-03-29T10:00:00Z" and "allowed again from" in verdict["reason"]


def test_allow_windows_and_precedence():
    office = {"name": "office hours", "kind": "allow", "zone": "America/New_York",
              "days": ["mon", "tue", "wed", "thu"], "start": "09:00", "end": "16:00"}
    # Monday 2026-12-07 09:00 EST = 14:00Z
    assert not allowed([office], "2026-12-07T13:59:00") and allowed([office], "2026-12-07T14:00:00")
    assert not allowed([office], "2026-12-11T15:00:00")  # a Friday: outside every allow window
    verdict = windows.evaluate(windows.parse([office]), at("2026-12-11T15:00:00"))
    assert verdict["reason"].startswith("outside every allow window ('office hours' (allow, America/New_York))")
    assert verdict["allowed_from"]["utc"] == "2026-12-14T14:00:00Z"
    # a launch freeze inside office hours wins with a higher priority
    launch = {"name": "launch", "kind": "deny", "zone": "UTC", "start": "2026-12-08 15:00", "end": "2026-12-08 18:00",
              "priority": 1}
    assert allowed([office, launch], "2026-12-08T14:59:00") and not allowed([office, launch], "2026-12-08T15:00:00")
    # at equal priority nothing says which wins: malformed
    with pytest.raises(windows.WindowError) as err:
        windows.parse([office, dict(launch, priority=0)], at("2026-12-01T00:00:00"))
    assert "allow window 'office hours' (allow, America/New_York) and deny window 'launch' (deny, UTC) overlap" \
        in str(err.value)
    # no allow window: only the deny windows decide
    assert allowed([], "2026-12-07T00:00:00")


@pytest.mark.parametrize("item, problem", [
    (dict(NIGHT, start="2026-01-02 10:00", end="2026-01-01 10:00"),
     "[0] 'weekend night': end: 2026-01-01 10:00 is not after start 2026-01-02 10:00"),
    (dict(NIGHT, zone="Europe/Atlantis"), "[0] 'weekend night': zone: 'Europe/Atlantis' is not an IANA time zone"),
    (dict(NIGHT, start="Fry 15:00"), "[0] 'weekend night': start: 'Fry' is not a weekday"),
    (dict(NIGHT, days=["mon", "someday"], start="22:00", end="06:00"), "days: 'someday' is not a weekday"),
    (dict(NIGHT, kind="maybe"), "kind: must be deny (a freeze) or allow (deploys only inside), got 'maybe'"),
    (dict(NIGHT, start="25:00", days=["mon"], end="06:00"), "start: 25:00 is not a time of day"),
    (dict(NIGHT, start="Fri 15:00", end="22:00"), "start and end must have the same form"),
    (dict(NIGHT, rollbacks="sometimes"), "rollbacks: must be allow or deny"),
    (dict(NIGHT, colour="red"), "unknown field 'colour'"),
    (dict(NIGHT, name="{{ lookup('pipe', 'id') }}"), "name: holds a Jinja template marker"),
    ({"kind": "deny"}, "[0]: name: required"),
])
def test_malformed_windows_are_refused_naming_the_window_and_field(item, problem):
    with pytest.raises(windows.WindowError) as err:
        windows.parse([item])
    assert problem in str(err.value), str(err.value)
    assert str(err.value).startswith("tachyon_change_windows[0]")


def test_hostile_names_are_shown_not_obeyed():
    name = "freeze \x1b]0;pwned\x07 <!here> \u202e"
    verdict = windows.evaluate(windows.parse([dict(NIGHT, name=name)]), at("2026-03-28T22:00:00"))
    assert verdict["window"]["name"] == name  # the data is kept as it is
    assert "\x1b" not in verdict["reason"] and "\u202e" not in verdict["reason"]
    # controls become spaces (one line), a bidi override is shown as its code
    assert "'freeze  ]0;pwned  <!here> \\u202e' (deny, Europe/Berlin)" in verdict["reason"]


def test_listing_of_the_next_14_days():
    rows = windows.listing(windows.parse([NIGHT]), at("2026-03-25T00:00:00"))
    assert [r["start_utc"] for r in rows] == ["2026-03-28T21:00:00Z", "2026-04-04T20:00:00Z"]


# --------------------------------------------------------------------------- overrides
SERVICES = {"tachyon-api": {"sha": "a" * 40, "digest": "sha256:" + "1" * 64},
            "tachyon-workers": {"sha": "b" * 40, "digest": "sha256:" + "2" * 64}}
NOW = at("2026-12-21T10:00:00").timestamp()


@pytest.fixture(name="store")
def store_fixture(tmp_path):
    return git_lock.FileStore(str(tmp_path / ".deploy-production.lock"))


def approved(store, env="production", hours=2, now=NOW):
    record = overrides.request(store, env, "0.2.0", SERVICES, "alice", "incident 1 <!here>", hours, now=now)
    return overrides.approve(store, record["lock_id"], env, "bob", now=now)


def test_an_override_is_requested_approved_by_another_person_and_used_once(store):
    record = overrides.request(store, "production", "0.2.0", SERVICES, "alice", "incident 1\nforged: x", now=NOW)
    oid = record["lock_id"]
    assert record["reason"] == "incident 1 forged: x" and record["expires_at"] == "2026-12-21T12:00:00Z"
    assert overrides.problem(overrides.read(store, oid)[1], "production", "0.2.0", SERVICES, NOW).startswith(
        "it is not approved yet")
    with pytest.raises(overrides.OverrideError, match="requested by alice, who cannot approve it"):
        overrides.approve(store, oid, "production", " Alice ", now=NOW)
    overrides.approve(store, oid, "production", "bob", now=NOW)
    used = overrides.consume(store, oid, "production", "0.2.0", SERVICES, "carol", now=NOW + 60)
    assert used["consumed_by"] == "carol" and used["approved_by"] == "bob"
    with pytest.raises(overrides.OverrideError, match="already used by the deploy of carol"):
        overrides.consume(store, oid, "production", "0.2.0", SERVICES, "carol", now=NOW + 120)


@pytest.mark.parametrize("env, version, services, now, why", [
    ("production", "0.2.0", SERVICES, NOW + 2 * 3600, "it expired at 2026-12-21T12:00:00Z"),
    ("production", "0.3.0", SERVICES, NOW, "it is for release 0.2.0, not 0.3.0"),
    ("staging", "0.2.0", SERVICES, NOW, "it is for production, not staging"),
    ("production", "0.2.0", dict(SERVICES, **{"tachyon-api": {"sha": "a" * 40, "digest": "sha256:" + "9" * 64}}),
     NOW, "it is for other images of release 0.2.0 (tachyon-api digest sha256:99999999999"),
])
def test_a_mismatched_or_expired_override_is_refused_naming_why(store, env, version, services, now, why):
    oid = approved(store)["lock_id"]
    assert overrides.problem(overrides.read(store, oid)[1], env, version, services, now).startswith(why)
    with pytest.raises(overrides.OverrideError, match="cannot be used: " + why.replace("(", r"\(")):
        overrides.consume(store, oid, env, version, services, "carol", now=now)


def test_a_self_approved_record_written_by_hand_is_refused(store):
    oid = approved(store)["lock_id"]
    path = store.path(overrides.ref(oid))
    record = json.load(open(path))
    record["approved_by"] = "ALICE"
    with open(path, "w") as out:
        json.dump(record, out)
    why = overrides.problem(overrides.read(store, oid)[1], "production", "0.2.0", SERVICES, NOW)
    assert why == "it was approved by its own requester ALICE: another person must approve it"


@pytest.mark.parametrize("hours, reason, problem", [
    (25, "x", "at most 24"), (0, "x", "more than 0"), (2, "  ", "needs a reason"),
    # what Python's float() would read otherwise: 20 hours, a nanosecond, forever, nothing
    ("2_0", "x", "written as digits"), ("1e-9", "x", "written as digits"), (1e-9, "x", "written as digits"),
    ("inf", "x", "written as digits"), ("nan", "x", "written as digits"), (True, "x", "written as digits"),
    ("0.001", "x", "at least one minute"), ("24.0001", "x", "at most 24"),
])
def test_a_request_needs_a_reason_and_a_short_expiry(store, hours, reason, problem):
    with pytest.raises(overrides.OverrideError, match=problem):
        overrides.request(store, "production", "0.2.0", SERVICES, "alice", reason, hours, now=NOW)
    assert os.listdir(os.path.dirname(store.lock_path)) == []


@pytest.mark.parametrize("hours, seconds", [("0.5", 1800), (2, 7200), (1.5, 5400), (" 3 ", 10800), ("24", 86400)])
def test_override_hours_written_as_digits_are_read_as_hours(store, hours, seconds):
    record = overrides.request(store, "production", "0.2.0", SERVICES, "alice", "incident 2", hours, now=NOW)
    assert epoch(record["expires_at"]) - NOW == seconds, record


def test_overrides_live_in_the_hub_remote_and_are_used_once(tmp_path):
    hub = tmp_path / "hub.git"
    subprocess.run(["git", "init", "-q", "--bare", str(hub)], check=True)
    clone = tmp_path / "a"
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    store = git_lock.GitRefStore(str(clone), str(hub))
    oid = approved(store)["lock_id"]
    refs = subprocess.run(["git", "ls-remote", str(hub)], capture_output=True, text=True, check=True).stdout
    assert "refs/tachyon/overrides/" + oid in refs
    # a second checkout (another runner) sees it, uses it; the first one's try is then refused
    other = tmp_path / "b"
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    overrides.consume(git_lock.GitRefStore(str(other), str(hub)), oid, "production", "0.2.0", SERVICES, "ci",
                      now=NOW)
    with pytest.raises(overrides.OverrideError, match="already used by the deploy of ci"):
        overrides.consume(store, oid, "production", "0.2.0", SERVICES, "laptop", now=NOW)
    record = overrides.read(store, oid)[1]
    assert record["approved_by"] == "bob" and record["reason"] == "incident 1 <!here>"


# --------------------------------------------------------------------------- the gate
def facts_with(items, now, override_id=None, record=None, rollback=False):
    facts = plan.Facts({"environment": "production", "manifest_path": "m.json", "change_windows": items,
                        "override": override_id, "rollback_version": "0.1.0" if rollback else None})
    facts.now, facts.version, facts.services, facts.override = now, "0.2.0", SERVICES, record
    plan._read_windows({}, facts)
    return facts


def test_the_change_window_gate(store):
    when = at("2026-03-28T22:00:00")
    # no windows, no override: the gate does not apply (the plan's gate list is unchanged)
    assert gates.change_window(facts_with([], when)) is None
    verdict = gates.change_window(facts_with([NIGHT], when))
    assert not verdict["ok"] and "-e override_action=request -e tachyon_version=0.2.0" in verdict["detail"]
    assert gates.change_window(facts_with([NIGHT], when, rollback=True))["ok"]
    record = approved(store, now=when.timestamp())
    facts = facts_with([NIGHT], when, record["lock_id"], overrides.read(store, record["lock_id"])[1])
    verdict = gates.change_window(facts)
    assert verdict["ok"] and "PASSED by incident override %s" % record["lock_id"] in verdict["detail"]
    assert facts.override_used["approved_by"] == "bob"
    # outside the window the override is not needed, and not used
    facts = facts_with([NIGHT], at("2026-03-30T10:00:00"), record["lock_id"], record)
    assert gates.change_window(facts)["ok"] and facts.override_used is None
    # malformed windows refuse the plan, naming them
    verdict = gates.change_window(facts_with([dict(NIGHT, zone="Nowhere/Else")], when))
    assert not verdict["ok"] and "'weekend night': zone: 'Nowhere/Else'" in verdict["detail"]


def test_deploys_under_an_override_are_counted_in_the_metrics():
    from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics as dm
    base = {"environment": "production", "outcome": "succeeded", "at": "2026-12-07T10:00:00Z"}
    used = dict(base, message="deployed; healthy after 1s; OVERRIDE: ov-0123456789ab (production release 0.2.0)")
    assert dm.is_under_override(used)
    assert not dm.is_under_override(dict(base, message="deployed; BREAK-GLASS x (OVERRIDE: maybe)"))
    assert not dm.is_under_override(dict(used, outcome="failed"))


def test_the_summary_names_the_override_escaped():
    from ansible_collections.tachyon.infra.plugins.module_utils._report import summary as ds
    text = 'ov-0123456789ab (production release 0.2.0; requested by alice: "fix | <!here> *now*"; approved by bob)'
    markdown = ds.render(ds.build("production", "succeeded", version="0.2.0", override=text))
    assert "| Incident override | ov-0123456789ab (production release 0.2.0; requested by alice: \"fix \\| \\<!here\\> " \
           "\\*now\\*\"; approved by bob) |" in markdown


# --------------------------------------------------------------------------- the modules
def run_module(module, capsys, check=False, diff=False, **args):
    from ansible.module_utils.testing import patch_module_args
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        module.main()
    return json.loads(capsys.readouterr().out), exc.value.code != 0


def test_change_override_module_check_mode_writes_nothing_and_diff_shows_the_record(tmp_path, capsys):
    import shutil
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    manifest = tmp_path / "manifest.json"
    shutil.copy(os.path.join(root, "releases", "manifest.json"), manifest)
    common = dict(environment="production", lock_path=str(tmp_path / ".deploy-production.lock"))
    result, failed = run_module(change_override, capsys, check=True, diff=True, state="requested", version="0.1.0",
                                manifest_path=str(manifest), by="alice", reason="incident 7", **common)
    assert not failed and result["changed"] and result["diff"]["after"]["reason"] == "incident 7"
    assert sorted(os.listdir(tmp_path)) == ["manifest.json"]
    result, failed = run_module(change_override, capsys, state="requested", version="0.1.0",
                                manifest_path=str(manifest), by="alice", reason="incident 7", **common)
    oid = result["id"]
    assert not failed and "Another person approves it: -e override_action=approve -e override_id=%s" % oid \
        in result["msg"]
    # the release must be the manifest's; the module refuses, naming it, and writes nothing
    result, failed = run_module(change_override, capsys, state="requested", version="9.9.9",
                                manifest_path=str(manifest), by="alice", reason="x", **common)
    assert failed and "release 9.9.9 is neither the manifest's (0.1.0) nor one a rollback of production can go back " \
        "to: cannot roll production back to release 9.9.9" in result["msg"]
    result, failed = run_module(change_override, capsys, check=True, state="approved", id=oid, by="bob", **common)
    assert not failed and result["override"]["approved_by"] == "bob"
    result, failed = run_module(change_override, capsys, state="status", id=oid, **common)
    assert not failed and not result["changed"] and "approved_by" not in result["override"]  # check mode wrote none


def test_change_windows_module_lists_and_enforces(capsys):
    # two halves of every day: a freeze at any moment the test runs
    always = {"name": "always", "kind": "deny", "zone": "UTC", "days": list(windows.DAYS), "start": "00:00",
              "end": "12:00"}
    halves = [always, dict(always, name="always too", start="12:00", end="00:00")]
    result, failed = run_module(change_windows, capsys, windows=halves)
    assert not failed and result["upcoming"] and "deploys are REFUSED" in result["report"][0]
    result, failed = run_module(change_windows, capsys, windows=halves, enforce="rollback")
    assert not failed  # rollbacks: allow
    halves = [dict(w, rollbacks="deny") for w in halves]
    result, failed = run_module(change_windows, capsys, windows=halves, enforce="rollback")
    assert failed and result["msg"].startswith("rollback refused: change window 'always")
    result, failed = run_module(change_windows, capsys, windows=[dict(always, zone="Mars/Base")])
    assert failed and "zone: 'Mars/Base' is not an IANA time zone" in result["msg"]


def test_the_plan_shows_the_window_in_force_and_the_next_one():
    verdict = windows.evaluate(windows.parse([NIGHT]), at("2026-03-28T22:00:00"))
    assert plan.window_lines(verdict) == [
        "  change windows: in force: 'weekend night' (deny) until Sun 2026-03-29 06:00 CEST (2026-03-29T04:00:00Z); "
        "next: 'weekend night' (deny) from Sat 2026-04-04 22:00 CEST (2026-04-04T20:00:00Z)"]
    assert plan.window_lines(None) == []
