"""module_utils/_report/report.py and playbooks/report.yml / metrics.yml without a browser (the
browser test is tests/integration/test_release_report_browser.py): escaping, self-containment,
idempotent writes, check mode, the metrics playbook's JSON."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from ansible_collections.tachyon.infra.plugins.module_utils._report import metrics as dm
from ansible_collections.tachyon.infra.plugins.module_utils._release import manifest as mf
from ansible_collections.tachyon.infra.plugins.module_utils._release import history as rh
from ansible_collections.tachyon.infra.plugins.module_utils._report import report as rr
from ansible_collections.tachyon.infra.plugins.module_utils._common.times import parse_utc

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "history"))
import synthetic  # noqa: E402

EVIL = '<script>alert("x")</script>'
UNTIL = parse_utc(synthetic.UNTIL)
FAKE = {synthetic.API: {k: k[1] * 7 for k in ("a1", "a2", "a3", "a4", "a5")},
        synthetic.WORKERS: {k: "e" + k[1] * 6 for k in ("w1", "w2")}}


def hostile():
    m = synthetic.manifest(FAKE)
    m = mf.record_deployment(m, "staging", "failed", deployment_id="x<b>y</b>", deployed_by=EVIL,
                             at="2026-04-08T00:00:00Z")
    m["description"] = EVIL
    return mf.validate(m, "hostile")


def page_of(m):
    return rr.render(m, rh.history_view(m, "<path>"), dm.metrics(m, "30d", UNTIL), UNTIL, title=EVIL)


def test_every_manifest_value_is_escaped():
    page = page_of(hostile())
    assert EVIL not in page and "<b>y</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page and "x&lt;b&gt;y&lt;/b&gt;" in page
    assert "&lt;path&gt;" in page
    # the only script element is the page's own
    assert len(re.findall(r"<script\b", page)) == 1


def test_the_page_is_self_contained():
    page = page_of(hostile())
    assert not re.search(r"(?:src|href)\s*=", page)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)
    assert "@import" not in page and "url(" not in page


def test_the_timeline_has_one_dot_per_attempt_coloured_by_outcome():
    m = hostile()
    svg = rr.timeline_svg(m, UNTIL)
    dots = re.findall(r'<circle class="attempt (\w+)" data-env="(\w+)"[^>]*fill="(#[0-9a-f]{6})"', svg)
    assert len(dots) == len(m["history"]) == 14
    # every recorded outcome has its colour (the synthetic history has no refusal: test_refusals.py)
    assert {(o, c) for o, _e, c in dots} == {(o, rr.COLOURS[o]) for o in rr.COLOURS if o != "refused"}
    assert sum(1 for o, e, _c in dots if (o, e) == ("failed", "production")) == 2


def run_playbook(name, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), str(ROOT / "playbooks" / name),
                           *extra], env=env, capture_output=True, text=True, check=False, timeout=180)
    return proc.returncode, proc.stdout + proc.stderr


def test_report_playbook_writes_once_and_check_mode_writes_nothing(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(mf.to_json_text(hostile()))
    dest = tmp_path / "out" / "report.html"
    args = ("-e", "manifest_path=%s" % path, "-e", "report_path=%s" % dest, "-e", "window_end=%s" % synthetic.UNTIL)
    rc, out = run_playbook("report.yml", "--check", *args)
    assert rc == 0 and not dest.exists() and "check mode: not written" in " ".join(out.split()), out
    rc, out = run_playbook("report.yml", *args)
    assert rc == 0 and "changed=1" in out and dest.stat().st_size > 5000, out
    rc, out = run_playbook("report.yml", *args)
    assert rc == 0 and "changed=0" in out, out
    rc, out = run_playbook("report.yml", *args[:4], "-e", "window_end=yesterday")
    assert rc == 2 and "window_end" in out and "is not a UTC timestamp" in out


def test_metrics_playbook_json_equals_the_module_utils_result(tmp_path):
    shas, urls = synthetic.make_repos(tmp_path)
    path = tmp_path / "manifest.json"
    path.write_text(mf.to_json_text(synthetic.manifest(shas)))
    rc, out = run_playbook("metrics.yml", "-e", "manifest_path=%s" % path, "-e", "format=json",
                           "-e", "window_end=%s" % synthetic.UNTIL, "-e", "since=30d",
                           "-e", "cache_dir=%s" % (tmp_path / "cache"),
                           "-e", json.dumps({"tachyon_repo_urls": urls}))
    assert rc == 0, out
    block = out.split("msg: |-\n", 1)[1].split("\n\nPLAY RECAP", 1)[0]
    data = json.loads("\n".join(line[8:] for line in block.splitlines()))
    prod = data["environments"]["production"]
    assert prod["change_failure_rate"] == {"attempts": 8, "failures": 4, "rate": 0.5}
    assert prod["lead_time"]["commits"] == 6 and prod["lead_time"]["median_seconds"] == 36 * 3600
    assert "file://" not in out  # remote URLs are not printed
    rc, out = run_playbook("metrics.yml", "-e", "manifest_path=%s" % path, "-e", "since=soon")
    assert rc == 2 and "is not a window" in out


# App Platform's events of a deploy window (issue 30): recorded in the history entry by the deploy,
# shown as text in the report. Their text comes from outside (App Platform's cause, a component name).
HOSTILE_EVENT = '<img src=x onerror="alert(1)">\nautoscaled <b>api</b> & co'
TOKEN = "dop_v1_" + "ab" * 32


def with_events():
    m = synthetic.manifest(FAKE)
    window = [
        {"at": "2026-04-09T00:00:01Z", "type": "DEPLOYMENT", "deployment_id": "dep-ours",
         "what": "deployment dep-ours (manual): ACTIVE", "ours": True},
        {"at": "2026-04-09T00:00:05Z", "type": "AUTOSCALING", "deployment_id": None,
         "what": HOSTILE_EVENT, "ours": False},
        {"at": "2026-04-09T00:00:07Z", "type": "DEPLOYMENT", "deployment_id": "dep-theirs",
         "what": "App Platform maintenance redeploy dep-theirs (token %s): ACTIVE" % TOKEN, "ours": False},
        "not an event",
    ]
    m = mf.record_deployment(m, "production", "failed", deployment_id="dep-ours", deployed_by="alice",
                             approved_by="bob", at="2026-04-09T00:00:09Z", events=window)
    m = mf.record_deployment(m, "staging", "failed", deployment_id="dep-s", deployed_by="alice",
                             at="2026-04-09T00:01:00Z",
                             events=[{"at": "2026-04-09T00:00:30Z", "type": "DEPLOYMENT", "deployment_id": "dep-s",
                                      "what": "deployment dep-s: ERROR", "ours": True}])
    return mf.validate(m, "with events")


def test_recorded_events_are_one_line_redacted_capped_and_validated():
    m = with_events()
    (entry,) = [e for e in m["history"] if e.get("deployment_id") == "dep-ours"]
    assert [e["type"] for e in entry["events"]] == ["DEPLOYMENT", "AUTOSCALING", "DEPLOYMENT"]  # the string dropped
    assert entry["events"][1]["what"] == '<img src=x onerror="alert(1)"> autoscaled <b>api</b> & co'  # data, one line
    assert TOKEN not in json.dumps(m)
    many = [{"at": "2026-04-09T00:00:%02dZ" % (i % 60), "type": "AUTOSCALING", "deployment_id": None,
             "what": "x" * 1000, "ours": False} for i in range(mf.MAX_EVENTS + 7)]
    kept = mf.recorded_events(many)
    assert len(kept) == mf.MAX_EVENTS and kept[0]["at"] == many[7]["at"]  # the newest
    assert all(len(e["what"]) <= mf.MAX_EVENT_TEXT for e in kept)
    # an attempt without events has no field (older manifests stay valid as they are)
    assert "events" not in mf.record_deployment(m, "staging", "failed", at="2026-04-10T00:00:00Z")["history"][-1]


def test_the_report_shows_each_deploy_window_s_events_as_text():
    page = page_of(with_events())
    start = page.index('<section id="platform-events">')
    section = page[start:page.index("</section>", start)]
    # hostile event text is escaped, never markup
    assert "<img src=x" not in page and "<b>api</b>" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; autoscaled &lt;b&gt;api&lt;/b&gt; &amp; co" in section
    assert TOKEN not in page
    # newest deploy first (staging's window, then production's), each window oldest event first
    assert section.index('data-env="staging"') < section.index('data-env="production"')
    production = section[section.index('data-env="production"'):]
    assert production.index("dep-ours (manual)") < production.index("autoscaled") < production.index("maintenance redeploy")
    assert section.count('class="event not-ours"') == 2 and section.count('class="event ours"') == 2
    assert section.count("not ours</span>") == 2
    # the tags in the section are the report's own: a parser sees no img, b or script
    tags = re.findall(r"<([a-z]+)[\s>]", section)
    assert set(tags) <= {"section", "h2", "p", "em", "table", "thead", "tr", "th", "tbody", "td", "span", "br", "code"}


def test_no_events_no_section():
    assert 'id="platform-events"' not in page_of(hostile())
