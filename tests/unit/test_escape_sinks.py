"""Hardening class 4 (issue 26): outside text is escaped for the sink it goes to, by the one
function of that sink in module_utils/_common/escape.py, and control characters never break a
parser. Each sink is tried with instances beyond the issue's examples (``<!channel>`` in a
deployer name, ``\\r`` in a commit subject, ``\\x1e``/``\\x1f`` in a subject, ESC in a lock record)."""
import json
import os
import re
import subprocess

import pytest

from ansible_collections.tachyon.infra.plugins.module_utils._common import escape
from ansible_collections.tachyon.infra.plugins.module_utils._git import cache as git_cache
from ansible_collections.tachyon.infra.plugins.module_utils._git import lock as git_lock
from ansible_collections.tachyon.infra.plugins.module_utils._notify import webhooks
from ansible_collections.tachyon.infra.plugins.module_utils._release import notes as rn
from ansible_collections.tachyon.infra.plugins.module_utils._report import report as html_report
from ansible_collections.tachyon.infra.plugins.module_utils._report import summary as job_summary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# control characters a person, a commit or a webhook can carry, beyond the examples
LINE_BREAKERS = ["\r", "\n", "\r\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"]


def _git(cwd, *args, **kw):
    return subprocess.run(["git"] + list(args), cwd=str(cwd), check=True, capture_output=True, text=True, **kw).stdout


# --------------------------------------------------------------------------------------- Slack
@pytest.mark.parametrize("hostile", ["<!channel>", "<!here>", "<!subteam^S123|ops>", "<@U024BE7LH>",
                                     "<https://evil.example|click me>", "a & b > c"])
def test_slack_payload_leaves_no_mention_link_or_entity_of_a_value(hostile):
    data = webhooks.event_data("succeeded", "production", release="1.2.3" + hostile, deployed_by=hostile,
                               approved_by="boss " + hostile, message="done " + hostile,
                               services={"api": {"sha": "abc" + hostile}})
    payload = webhooks.slack_payload(data)
    texts = [payload["text"]] + [b["text"]["text"] for b in payload["blocks"] if "text" in b]
    texts += [f["text"] for b in payload["blocks"] for f in b.get("fields", [])]
    for text in texts:
        # a raw "<" only opens the links we build (Run/App), never one of a value
        assert "<!" not in text and "<@" not in text and "<https://evil" not in text
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text
    assert any("&lt;" in t or "&amp;" in t for t in texts)


def test_slack_links_keep_our_urls_and_refuse_one_that_breaks_out():
    assert escape.slack_link("https://ci.example/runs/1?a=1&b=2", "Run") == "<https://ci.example/runs/1?a=1&amp;b=2|Run>"
    assert escape.slack_link("https://x.example/a|<!channel>", "Run") == "Run"
    assert escape.slack_link("https://x.example/", "a|b") == "<https://x.example/|a\u2758b>"


# ------------------------------------------------------------------------------------ markdown
def _notes(subject, author="dev"):
    commit = {"sha": "a" * 40, "short_sha": "aaaaaaa", "author": author, "date": "2026-01-01T00:00:00Z",
              "subject": subject, "pull_requests": []}
    svc = {"service": "api", "status": "changed", "from_sha": "b" * 40, "to_sha": "a" * 40, "commits": [commit],
           "removed_commits": [], "migration_files": [], "migrations_changed": None, "error": None}
    side = {"label": "release", "version": "1.0.0", "source": "test"}
    return {"from": side, "to": dict(side, version="1.1.0"), "services": [svc], "changed_services": ["api"],
            "commit_count": 1, "migrations_changed": False, "carries_migration": {"carries": False, "reason": ""},
            "errors": []}


def _table_rows(markdown):
    return [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line]


@pytest.mark.parametrize("breaker", LINE_BREAKERS)
@pytest.mark.parametrize("where", ["subject", "author"])
def test_a_line_break_in_a_commit_never_leaves_the_release_notes_table(breaker, where):
    forged = "fix%s## Security review: PASSED%s| x | y |" % (breaker, breaker)
    notes = _notes(forged if where == "subject" else "fix", author=forged if where == "author" else "dev")
    markdown = rn.render_markdown(notes)
    assert not any(line.startswith("#") and "Security" in line for line in markdown.splitlines())
    rows = _table_rows(markdown)
    assert len(rows) == 2, markdown  # the header and our one commit
    # one row, four cells: every | of the value is escaped
    assert len(re.findall(r"(?<!\\)\|", rows[1])) == 5
    for char in ("\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"):
        assert char not in markdown


@pytest.mark.parametrize("value", ["`x` | *bold*", "`` two ``", "<img src=x onerror=alert(1)>", "[a](https://e)"])
def test_job_summary_cells_and_code_spans_hold_any_value(value):
    summary = job_summary.build("staging", "failed", version="1.0.0" + value, deployment_id="dep" + value,
                                services={"api" + value: {"sha": "abc" + value, "tag": "t" + value}},
                                failure="boom\r\n# Approved" + value, deployed_by="eve\n" + value)
    markdown = job_summary.render(summary)
    assert not any(line.startswith("# Approved") for line in markdown.splitlines())
    for row in _table_rows(markdown):
        cells = re.findall(r"(?<!\\)\|", row)
        assert len(cells) in (3, 4), row  # the facts table (2 cells) or the services table (3)
    outside_code = re.sub(r"(`+).*?\1", "", markdown)  # in a code span markup is literal text
    assert not re.search(r"(?<!\\)<img", outside_code) and not re.search(r"(?<!\\)\]\(https://e\)", outside_code)


def test_md_code_fences_longer_than_any_backtick_run():
    assert escape.md_code("a`b") == "``a`b``"
    assert escape.md_code("``") == "``` `` ```"
    assert escape.md_code("a|b") == "`a\\|b`"


# --------------------------------------------------------------------------------- git log -z
@pytest.mark.parametrize("subject", ["record\x1esplit", "field\x1fsplit", "carriage\rreturn", "esc\x1b[31mred",
                                     "tab\there", "\x1e\x1f\x1e"])
def test_git_log_parsing_survives_any_byte_of_a_subject(tmp_path, subject):
    repo = tmp_path / "svc"
    _git(tmp_path, "init", "-q", str(repo))
    env = dict(os.environ, GIT_AUTHOR_NAME="a\x1fb", GIT_AUTHOR_EMAIL="a@b", GIT_COMMITTER_NAME="c",
               GIT_COMMITTER_EMAIL="c@d")
    _git(repo, "commit", "-q", "--allow-empty", "--cleanup=verbatim", "-m", "base", env=env)
    base = _git(repo, "rev-parse", "HEAD").strip()
    _git(repo, "commit", "-q", "--allow-empty", "--cleanup=verbatim", "-m", subject, env=env)
    _git(repo, "commit", "-q", "--allow-empty", "--cleanup=verbatim", "-m", "after", env=env)
    tip = _git(repo, "rev-parse", "HEAD").strip()
    cache = git_cache.GitCache(str(tmp_path / "cache"))
    commits = cache.commits(str(repo / ".git"), base, tip)
    assert [c["subject"] for c in commits] == ["after", subject]
    assert all(c["author"] == "a\x1fb" and len(c["sha"]) == 40 for c in commits)
    # and the notes that carry it render without a crash, the control character neutralised
    notes = _notes(subject)
    assert "\x1b" not in rn.render_text(notes) and "\x1b" not in rn.render_markdown(notes)


# ---------------------------------------------------------------------------------- terminal
@pytest.mark.parametrize("hostile", ["\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "ok\rFAKE: all good", "\u202eevil",
                                     "\x9b31m", "bell\x07", "back\x08\x08"])
def test_a_lock_record_never_reaches_the_terminal_raw(tmp_path, hostile):
    bare = tmp_path / "hub.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", "file://%s" % bare, str(clone))
    store = git_lock.GitRefStore(str(clone), "origin")
    # a record written by another tool: raw trailers, nothing of ours cleaned them
    tree = _git(clone, "mktree", input="").strip()
    message = "lock\n\nTachyon-Lock-Id: x1\nTachyon-Holder: mallory%s\nTachyon-Purpose: deploy%s\n" \
              "Tachyon-Expires-At: 2999-01-01T00:00:00Z\n" % (hostile, hostile)
    env = dict(os.environ, GIT_AUTHOR_NAME="m", GIT_AUTHOR_EMAIL="m@x", GIT_COMMITTER_NAME="m", GIT_COMMITTER_EMAIL="m@x")
    sha = _git(clone, "commit-tree", tree, "-F", "-", input=message, env=env).strip()
    _git(clone, "push", "-q", "origin", "%s:refs/tachyon/locks/staging" % sha)
    with pytest.raises(git_lock.LockHeld) as err:
        git_lock.acquire(store, "staging", git_lock.new_holder("lock", "me", "deploy", 60))
    text = str(err.value)
    assert "mallory" in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text), repr(text)


@pytest.mark.parametrize("hostile", ["\x1b[31m", "\r", "\u202e", "\x00"])
def test_terminal_shows_controls_visibly(hostile):
    shown = escape.terminal("a%sb" % hostile)
    assert shown.startswith("a\\") and shown.endswith("b") and hostile not in shown


# ---------------------------------------------------------------------------------- HTML / JSON
@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "\" onmouseover=\"x", "it's", "a\x1b[31mb\x00"])
def test_html_text_is_inert(value):
    out = html_report.esc(value)
    assert "<" not in out and ">" not in out and '"' not in out and "'" not in out
    assert "\x1b" not in out and "\x00" not in out


@pytest.mark.parametrize("value", ["</script><script>alert(1)</script>", "line\u2028sep", "a & b", "\x00\x1b"])
def test_json_text_is_ascii_and_html_inert_and_round_trips(value):
    text = escape.json_text({"deployed_by": value})
    assert all(ord(c) < 128 for c in text)
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"deployed_by": value}


# ---------------------------------------------------------------------------- git commit messages
@pytest.mark.parametrize("holder", ["eve\nTachyon-Lock-Id: forged", "eve\rTachyon-Expires-At: never",
                                    "eve\x00", "eve\u2028Tachyon-Kind: freeze"])
def test_a_lock_holder_cannot_forge_a_trailer(tmp_path, holder):
    bare = tmp_path / "hub.git"
    _git(tmp_path, "init", "-q", "--bare", str(bare))
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", "file://%s" % bare, str(clone))
    store = git_lock.GitRefStore(str(clone), "origin")
    got = git_lock.acquire(store, "staging", git_lock.new_holder("lock", holder, "deploy\nTachyon-Kind: freeze", 60))
    _token, record = store.read("refs/tachyon/locks/staging")
    assert record["lock_id"] == got["holder"]["lock_id"] and record["kind"] == "lock"
    assert record["expires_at"] != "never"
    assert record["holder"].startswith("eve")


@pytest.mark.parametrize("subject,body", [("deploy\nSigned-off-by: x", None), ("a\x00b", "c\x00d"),
                                          ("x\ry", "l1\r\nl2\x1b[0m")])
def test_git_message_subject_is_one_line_and_no_nul(subject, body):
    message = escape.git_message(subject, body)
    first, _sep, rest = message.partition("\n")
    assert "\x00" not in message and "\r" not in message and "\x1b" not in message
    assert "Signed-off-by" not in rest
    assert first.strip() == first and first


# --------------------------------------------------------------------------- one place per sink
def test_no_writer_escapes_a_sink_by_itself():
    """Every writer calls escape.py: no other html.escape, markdown escaping regex or ad-hoc
    Slack entity replacement in plugins/."""
    offenders = []
    for base, _dirs, files in os.walk(os.path.join(ROOT, "plugins")):
        for name in files:
            path = os.path.join(base, name)
            if not name.endswith(".py") or path.endswith(os.path.join("_common", "escape.py")):
                continue
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            for pattern in (r"html\.escape\(", r"\[\\\\`\*_", r"replace\(\"<\", \"&lt;\"\)", r"ensure_ascii=True"):
                if re.search(pattern, text):
                    offenders.append("%s: %s" % (os.path.relpath(path, ROOT), pattern))
    assert not offenders, offenders
