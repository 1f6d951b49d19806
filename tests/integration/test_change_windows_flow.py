"""Change windows and the incident override against the App Platform emulator (issue 29).

One production run through the cases the issue lists, in order (each playbook run costs seconds,
so they share one emulator): inside a deny window a production deploy is refused naming the
window and its end; an override approved by its own requester is refused; an override of
another environment is refused; an approved override lets the release through once (the deploy
record names it) and a second try is refused; a rollback inside the window is allowed, and
refused once the window forbids rollbacks; an override of another release, and one past its
expiry, are refused naming why. The window is placed relative to now (the plan's own clock; no
variable moves it). The edges of expiry are in tests/unit/test_change_windows.py (an injected
clock).
"""
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import zoneinfo

import yaml

from test_deploy import ROOT, manifest_json
# the emulator-backed run fixture (imported so pytest finds it) and the flattened output,
# as the promotion gates flow has them
from test_promotion_gates_flow import flat, run_fixture  # noqa: F401 pylint: disable=unused-import

# a hostile window name: Slack mention, markdown, a bidi override (data, shown, never obeyed)
NAME = "incident freeze <!here> *now* \u202e"
# a hostile reason: a Jinja expression and a Slack mention (data, never a template)
REASON = "incident 123 {{ lookup('pipe', 'id') }} <!channel>"


def with_window(run, rollbacks):
    """A copy of the sandbox inventory whose production has a deny window from an hour ago to
    three hours from now (Europe/Berlin wall clock)."""
    inventory = run.tmp / "inventory"
    if not inventory.exists():
        shutil.copytree(ROOT + "/inventories/sandbox", inventory)
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    now = datetime.datetime.now(zone)
    window = {"name": NAME, "kind": "deny", "zone": "Europe/Berlin", "rollbacks": rollbacks,
              "start": (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
              "end": (now + datetime.timedelta(hours=3)).strftime("%Y-%m-%d %H:%M")}
    base = (ROOT + "/inventories/sandbox/group_vars/production.yml")
    text = open(base).read() + "\n" + yaml.safe_dump({"tachyon_change_windows": [window]}, allow_unicode=False)
    (inventory / "group_vars" / "production.yml").write_text(text)
    return str(inventory), window


def override_id(out):
    match = re.search(r"override (ov-[0-9a-f]{12}) requested", out)
    assert match, out[-3000:]
    return match.group(1)


def test_deny_window_refuses_production_until_an_approved_override_lets_one_deploy_through(run):
    rc, out = run.staging()
    assert rc == 0, out[-3000:]
    inventory, window = with_window(run, rollbacks="allow")
    prod_before = run.app("production")["active_deployment"]["id"]

    # inside the deny window: refused, naming the window (escaped), its end in Berlin and in UTC
    rc, out = run.production(inventory=inventory)
    text = flat(out)
    assert rc != 0, out[-3000:]
    end = datetime.datetime.strptime(window["end"], "%Y-%m-%d %H:%M").replace(
        tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    end_utc = end.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ("gate 'change window' failed: change window 'incident freeze <!here> *now* \\u202e' (deny, "
            "Europe/Berlin) is in force") in text, text[-3000:]
    assert "until %s %s (%s)" % (end.strftime("%a %Y-%m-%d %H:%M"), end.tzname(), end_utc) in text
    assert "playbooks/override.yml -i inventories/production -e override_action=request" in text
    assert "\u202e" not in out
    assert run.app("production")["active_deployment"]["id"] == prod_before
    # no back door: the windows come from the inventory only
    rc, out = run.production(inventory=inventory, extra={"tachyon_change_windows": []})
    assert rc != 0 and "extra var tachyon_change_windows: its change windows belong to the environment and come " \
        "only from its inventory" in flat(out), out[-3000:]

    # an override: requested by tester (tachyon_deployed_by), with a hostile reason kept as data
    rc, out = run.playbook("production", playbook="override.yml", inventory=inventory,
                           extra={"override_action": "request", "tachyon_version": "0.1.0",
                                  # as scripts/ and the workflows pass outside text: untrusted data
                                  "override_reason": {"__ansible_unsafe": REASON}})
    assert rc == 0, out[-3000:]
    ov = override_id(out)
    record = json.loads((run.manifest.parent / (".override-%s.json" % ov)).read_text())
    assert record["reason"] == REASON and record["environment"] == "production" and record["holder"] == "tester"

    # approved by its own requester: refused
    rc, out = run.playbook("production", playbook="override.yml", inventory=inventory,
                           extra={"override_action": "approve", "override_id": ov})
    assert rc != 0 and "was requested by tester, who cannot approve it" in flat(out), out[-3000:]

    # an override of another environment (staging needs no approval) does not open production
    rc, out = run.playbook("staging", playbook="override.yml", inventory=inventory,
                           extra={"override_action": "request", "tachyon_version": "0.1.0", "override_reason": "x"})
    assert rc == 0, out[-3000:]
    rc, out = run.production(inventory=inventory, extra={"tachyon_override": override_id(out)})
    assert rc != 0 and "refused: it is for staging, not production" in flat(out), out[-3000:]

    # approved by another person: one deploy goes through and consumes it
    rc, out = run.playbook("production", playbook="override.yml", inventory=inventory,
                           extra={"override_action": "approve", "override_id": ov, "tachyon_deployed_by": "bob"})
    assert rc == 0 and "approved by bob" in out, out[-3000:]
    rc, out = run.production(inventory=inventory, extra={"tachyon_override": ov})
    text = flat(out)
    assert rc == 0, out[-4000:]
    assert "INCIDENT OVERRIDE (used by this deploy): %s (production release 0.1.0; requested by tester" % ov in text
    assert "change window ok" in text, text[-4000:]
    record = json.loads((run.manifest.parent / (".override-%s.json" % ov)).read_text())
    assert record["consumed_by"] == "tester" and record["approved_by"] == "bob"
    entry = manifest_json(run)["history"][-1]
    assert entry["outcome"] == "succeeded" and "OVERRIDE: %s" % ov in entry["message"]
    assert REASON in entry["message"] and "approved by bob" in entry["message"]
    assert run.app("production")["active_deployment"]["id"] != prod_before

    # the second try with the same override: refused, it was used
    rc, out = run.production(inventory=inventory, extra={"tachyon_override": ov})
    assert rc != 0 and "refused: it was already used by the deploy of tester" in flat(out), out[-3000:]

    # an approved, unused override of another release, and one past its expiry: refused naming why
    # (the test writes the store's records as a past request would have left them; no clock moves)
    used = json.loads((run.manifest.parent / (".override-%s.json" % ov)).read_text())
    unused = {key: value for key, value in used.items() if not key.startswith("consumed")}
    for other, change, why in (
            ("ov-0000000000a1", {"release": "0.0.9"}, "refused: it is for release 0.0.9, not 0.1.0"),
            ("ov-0000000000a2", {"expires_at": "2026-01-01T00:00:00Z"},
             "refused: it expired at 2026-01-01T00:00:00Z")):
        (run.manifest.parent / (".override-%s.json" % other)).write_text(
            json.dumps(dict(unused, lock_id=other, **change)))
        rc, out = run.production(inventory=inventory, extra={"tachyon_override": other})
        assert rc != 0 and why in flat(out), out[-3000:]

    # a rollback inside the window is allowed (restoring is not changing)...
    rollback = {"tachyon_rollback_version": "0.1.0", "tachyon_approved_by": "alice"}
    rc, out = run.playbook("production", playbook="rollback.yml", inventory=inventory, extra=rollback)
    assert rc == 0 and "change window ok" in flat(out), out[-3000:]
    # ... unless the window forbids rollbacks
    inventory, _window = with_window(run, rollbacks="deny")
    rc, out = run.playbook("production", playbook="rollback.yml", inventory=inventory, extra=rollback)
    text = flat(out)
    assert rc != 0 and "gate 'change window' failed" in text and "no rollbacks from" in text, text[-3000:]
    # and the rollback with App Platform's rollback API (no plan) too
    active = run.app("production")["active_deployment"]["id"]
    rc, out = run.playbook("production", playbook="rollback.yml", inventory=inventory)
    text = flat(out)
    assert rc != 0 and "rollback refused: change window 'incident freeze" in text, text[-3000:]
    assert run.app("production")["active_deployment"]["id"] == active


def test_make_validate_refuses_malformed_windows_naming_them(tmp_path):
    """playbooks/validate.yml (make validate) reads every inventory's windows as written."""
    bad = [
        {"name": "backwards", "kind": "deny", "zone": "UTC", "start": "2027-01-04 08:00", "end": "2026-12-19 18:00"},
        {"name": "lost", "kind": "deny", "zone": "Europe/Atlantis", "start": "Fri 15:00", "end": "Mon 08:00"},
        {"name": "typo", "kind": "deny", "zone": "UTC", "start": "Fry 15:00", "end": "Mon 08:00"},
        {"name": "office", "kind": "allow", "zone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri"],
         "start": "09:00", "end": "17:00"},
        {"name": "launch", "kind": "deny", "zone": "Europe/Berlin", "start": "Wed 14:00", "end": "Wed 18:00"},
        {"name": "templated {{ 7 * 7 }}", "kind": "deny", "zone": "UTC", "start": "Sat 00:00", "end": "Sun 00:00"},
    ]
    good = [{"name": "weekend", "kind": "deny", "zone": "Europe/Berlin", "start": "Fri 15:00", "end": "Mon 08:00"}]
    for env, items in (("production", bad), ("staging", good)):
        target = tmp_path / "inventories" / env / "group_vars" / "all"
        target.mkdir(parents=True)
        (target / "windows.yml").write_text(yaml.safe_dump({"tachyon_change_windows": items}))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "playbooks/validate.yml", "-e",
         json.dumps({"validate_root": str(tmp_path), "validate_checks": ["change_windows"]})],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    text = flat(proc.stdout + proc.stderr)
    assert proc.returncode != 0, text[-3000:]
    where = "inventories/production/group_vars/all/windows.yml: tachyon_change_windows"
    assert where + "[0] 'backwards': end: 2026-12-19 18:00 is not after start 2027-01-04 08:00" in text, text[-3000:]
    assert where + "[1] 'lost': zone: 'Europe/Atlantis' is not an IANA time zone" in text
    assert where + "[2] 'typo': start: 'Fry' is not a weekday" in text
    assert where + "[5] 'templated {{ 7 * 7 }}': name: holds a Jinja template marker" in text
    assert ("tachyon_change_windows: allow window 'office' (allow, UTC) and deny window 'launch' (deny, "
            "Europe/Berlin) overlap") in text and "with the same priority 0: nothing says which wins" in text
    assert "FAIL change windows" in text and "inventories/staging" not in text
