"""Maintenance mode's decisions (plugins/module_utils/_platform/maintenance.py): when a release
that carries a migration uses it (off / on / ask, production asking by default), what the next
plan says about maintenance left on, and the marker that outlives a killed run."""
import os

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._platform import maintenance as m


@pytest.mark.parametrize("mode,choice,carries,use,refused", [
    ("off", "", True, False, False),
    ("off", "yes", True, True, False),
    ("on", "", True, True, False),
    ("on", "no", True, False, False),
    ("ask", "", True, False, True),   # production's default: nobody chose
    ("ask", "yes", True, True, False),
    ("ask", "no", True, False, False),
    ("ask", "", False, False, False),  # no migration: nothing to ask
    ("sometimes", "", True, False, True),
    ("on", "maybe", True, False, True),
])
def test_when_a_release_uses_maintenance_mode(mode, choice, carries, use, refused):
    decided = m.decide("production", mode, choice, carries, "https://status.example.com/offline.html")
    assert (decided["use"], decided["refused"]) == (use, refused), decided
    if mode == "ask" and refused:
        assert "-e tachyon_maintenance=yes" in decided["why"] and "-e tachyon_maintenance=no" in decided["why"]
        # an unattended run (GitHub, AWX) is told where its answer goes
        assert "deploy-prod: the maintenance input" in decided["why"]
        assert "'Maintenance mode for a migration'" in decided["why"]


def test_the_spec_block_and_the_marker(tmp_path):
    spec = {"name": "app", "services": [{"name": "api"}]}
    on = m.with_maintenance(spec, True, "https://x.example/off.html")
    assert on["maintenance"] == {"enabled": True, "offline_page_url": "https://x.example/off.html"}
    assert "maintenance" not in spec and m.enabled(on) and not m.enabled(spec)
    assert m.with_maintenance(on, False) == spec and m.enabled({"maintenance": {"archive": True}})
    path = m.marker_path(str(tmp_path / "manifest.json"), "production")
    assert path == str(tmp_path / ".maintenance-production.json") and m.read_marker(path) is None
    m.write_marker(path, "production", "1.2.0", "run 7", "alice")
    assert m.read_marker(path)["release"] == "1.2.0"
    with open(path, "w") as handle:
        handle.write("{broken")
    assert "cannot be read" in m.read_marker(path)["problem"]
    m.remove_marker(path)
    assert not os.path.exists(path)


def test_the_next_plan_says_maintenance_was_left_on_and_what_to_do():
    assert m.leftover(None, {"name": "app"}, "refuse", "staging") is None
    marker = {"since": "2026-12-07T18:00:00Z", "release": "1.2.0", "by": "alice"}
    refused = m.leftover(marker, {"maintenance": {"enabled": True}}, "refuse", "production")
    assert refused["refused"] and refused["on"]
    assert "the live app's spec has maintenance enabled" in refused["why"]
    assert "a run left its marker (since 2026-12-07T18:00:00Z, release 1.2.0, by alice)" in refused["why"]
    assert "ansible-playbook playbooks/maintenance.yml -i inventories/production -e maintenance=off" in refused["why"]
    turned = m.leftover(marker, {}, "turn_off", "production")
    assert not turned["refused"] and not turned["on"] and "this deploy turns it off first" in turned["why"]
