"""Hardening class 4 (issue 26) at the seams of App Platform's own signals (issue 30) and the
change windows (issue 29): the platform's words (a component's name, an event's cause, phase and
deployment id, an autoscaled component and its metric) and a plan's outside text reach the
terminal through the progress lines and the plan a deploy prints; escape.terminal makes every
control there visible (one line: a raw line break in a progress line would print a line of its
own), and the other sinks those words reach (the job summary, Slack, the HTML report) hold."""
import subprocess

import pytest

# every collection import at collection time: imported inside a test, after another test on the same
# pytest worker installed ansible's collection finder (test_awx_data.py does), they need collection
# metadata that finder never loaded here ("collection metadata was not loaded for collection tachyon.infra")
from ansible_collections.tachyon.infra.plugins.module_utils._common.progress import ProgressLog
from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock
from ansible_collections.tachyon.infra.plugins.module_utils._plan import overrides
from ansible_collections.tachyon.infra.plugins.module_utils._release import notes as rn
from ansible_collections.tachyon.infra.plugins.module_utils._notify import webhooks
from ansible_collections.tachyon.infra.plugins.module_utils._platform import signals
from ansible_collections.tachyon.infra.plugins.module_utils._report import report as html_report
from ansible_collections.tachyon.infra.plugins.module_utils._report import summary as job_summary
# imported at collection time (see test_app_deploy.py: the collection finder)
from ansible_collections.tachyon.infra.plugins.action import app_deploy as app_deploy_action  # noqa: E402
from test_escape_sinks import _notes  # noqa: E402

# what a terminal would obey: a screen clear, a window title (OSC ... BEL), a carriage return that
# overwrites the line, a line break that forges a line of its own, C1 CSI, a bidi override
HOSTILE = ["api\x1b[2J\x1b]0;pwned\x07", "api\rverified: healthy", "api\n  deployment d: ACTIVE", "api\x9b31m",
           "api\u202eyhtlaeh", "api\x1e\x1f\x00"]
RAW = ["\x1b", "\r", "\n", "\x9b", "\u202e", "\x1e", "\x1f", "\x00", "\x07"]


class _Apps(object):
    """App Platform answering with ``word`` wherever its answer holds text (OpenAPI shapes:
    apps_get_health.yml, apps_list_events.yml)."""

    def __init__(self, word):
        self.word = word

    def get_health(self, app_id):
        return {"app_health": {"components": [{"name": self.word, "state": "HEALTHY", "cpu_usage_percent": 1.5,
                                               "memory_usage_percent": 2.5, "replicas_desired": 1,
                                               "replicas_ready": 1}]}}

    def list_events(self, app_id, page=1, per_page=20):
        return {"events": [
            {"id": "e2", "type": "AUTOSCALING", "created_at": "2026-12-07T10:00:09Z",
             "autoscaling": {"components": {self.word: {"from": 1, "to": 2, "triggering_metric": self.word}}}},
            {"id": "e1", "type": "DEPLOYMENT", "created_at": "2026-12-07T10:00:05Z", "deployment_id": self.word,
             "deployment": {"id": self.word, "cause": self.word, "phase": self.word,
                            "cause_details": {"type": "MANUAL"}}}], "links": {}}


def _signals(word):
    client = type("Client", (), {})()
    client.apps = _Apps(word)
    log = ProgressLog()
    found, message = signals.verify(client, "app-1", "dep-1", since=0, timeout=0, progress=log)
    return found, message, log


@pytest.mark.parametrize("word", HOSTILE)
def test_the_platform_s_words_reach_the_terminal_visible_and_on_one_line(word, tmp_path):
    path = tmp_path / "progress.log"
    client = type("Client", (), {})()
    client.apps = _Apps(word)
    log = ProgressLog(str(path))
    found, message = signals.verify(client, "app-1", "dep-1", since=0, timeout=0, progress=log)
    assert message is None and found["components"]
    # the event lines and the component line: what app_deploy's action plugin prints, one per line
    assert len(log.lines) == 3 and [line for line in log.lines if "api" not in line] == []
    for line in log.lines:
        assert not any(char in line for char in RAW), repr(line)
    assert path.read_text().splitlines() == log.lines


@pytest.mark.parametrize("word", HOSTILE[:3])
def test_the_plan_a_deploy_prints_shows_controls_visibly(word, monkeypatch):
    shown = []
    monkeypatch.setattr(app_deploy_action.display, "display", shown.append)
    app_deploy_action.show_plan(["  change windows: in force: '%s' (deny)" % word,
                                 "  INCIDENT OVERRIDE (used by this deploy): ov-0123456789ab (reason %s)" % word])
    assert len(shown) == 2
    for line in shown:
        assert not any(char in line for char in RAW), repr(line)


@pytest.mark.parametrize("word", HOSTILE + ["| x | y |\n# Security review: PASSED", "<!channel> & <script>"])
def test_the_other_sinks_of_the_platform_s_words_hold(word):
    found, _message, _log = _signals(word)
    summary = job_summary.build("staging", "succeeded", version="0.1.0",
                                health={"status": "healthy", "platform": found["components"],
                                        "timeline": found["timeline"]})
    markdown = job_summary.render(summary)
    for line in markdown.split("\n"):
        assert not line.startswith("#") or line.startswith("## :white_check_mark:"), line
        if line.startswith("| ") and "HEALTHY" in line:
            assert line.count(" | ") == 4, line  # five cells (a "|" in a value is "\\|"), a row of its own
    assert not any(char in markdown for char in ("\x1b", "\r", "\x9b", "\x00"))
    slack = webhooks.slack_payload(webhooks.event_data("failed", "staging", message="; ".join(
        signals.timeline_lines(found["timeline"]))))
    assert "<!channel>" not in str(slack) and "<script>" not in str(slack)
    page = html_report.events_section({"history": [{"environment": "staging", "version": "0.1.0", "outcome": "succeeded",
                                                    "at": "2026-12-07T10:00:10Z", "deployment_id": "dep-1",
                                                    "events": summary["timeline"]}]})
    assert "<script>" not in page and "\x1b" not in page


@pytest.mark.parametrize("who", [".", "<>", "\"", "'; :", "\\"])
def test_a_person_named_only_by_what_git_strips_still_gets_a_lock_and_an_override(tmp_path, who):
    """The git sink's identity (escape.git_ident): git refuses an author name of only ``. , : ; < >
    " \\ '`` ("name consists only of disallowed characters"), which made the lock and the override
    request of such a deployer fail with a raw git error; the record keeps the name as given."""
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "hub.git")], check=True)
    subprocess.run(["git", "clone", "-q", "file://%s" % (tmp_path / "hub.git"), str(tmp_path / "clone")], check=True,
                   capture_output=True)
    store = git_lock.GitRefStore(str(tmp_path / "clone"), "origin")
    record = overrides.request(store, "staging", "0.1.0", {"tachyon-api": {"sha": "a" * 40}}, who, "incident 9")
    assert overrides.read(store, record["lock_id"])[1]["holder"] == who.strip()
    taken = git_lock.acquire(store, "staging", git_lock.new_holder("lock", who, "deploy of staging", 600))
    assert store.read(git_lock.lock_ref("staging"))[0] == taken["token"]


BIDI = ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u200f"]


@pytest.mark.parametrize("char", BIDI)
def test_a_bidi_override_is_shown_as_its_code_in_every_rendered_sink(char):
    """Trojan Source (CVE-2021-42574) in the rendered sinks: a commit subject in the approver's
    release notes, a component name in the job summary, a message in Slack, an event in the HTML
    report would show the text after it reversed ("DESSAP :weiver ytiruceS" reads as "Security
    review: PASSED"); each sink's one function (escape.md, md_code, slack, html_text) shows it as
    its code, as escape.terminal does."""
    forged = "fix typo %sDESSAP :weiver ytiruceS" % char
    code = "\\u%04x" % ord(char)
    notes_md = rn.render_markdown(_notes(forged, author="dev" + char))
    found, _message, _log = _signals("api" + char)
    summary_md = job_summary.render(job_summary.build(
        "staging", "succeeded", version="0.1.0", deployed_by="eve" + char,
        health={"status": "healthy", "platform": found["components"], "timeline": found["timeline"]}))
    slack = str(webhooks.slack_payload(webhooks.event_data("failed", "staging", deployed_by="eve" + char,
                                                           message=forged)))
    page = html_report.events_section({"history": [{"environment": "staging", "version": "0.1.0",
                                                    "outcome": "succeeded", "at": "2026-12-07T10:00:10Z",
                                                    "events": [{"at": "x", "type": "DEPLOYMENT", "what": forged,
                                                                "ours": False}]}]})
    for sink, text in (("release notes", notes_md), ("job summary", summary_md), ("slack", slack), ("html", page)):
        assert char not in text, sink
        assert code in text.replace("\\\\", "\\"), (sink, text)
