"""scripts/step-summary.py: deploy-prod's release notes reach the job summary capped under GitHub's
1 MiB per step summary (issue 26, class 5: 10,000 commits made a 1.64 MiB summary GitHub drops)."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "step-summary.py")
MIB = 1024 * 1024


def run(tmp_path, notes_text, already=b""):
    notes = tmp_path / "release-notes.md"
    notes.write_text(notes_text, encoding="utf-8")
    summary = tmp_path / "summary.md"
    summary.write_bytes(already)
    env = dict(os.environ, GITHUB_STEP_SUMMARY=str(summary))
    proc = subprocess.run([sys.executable, SCRIPT, str(notes), "release-notes"], env=env,
                          capture_output=True, text=True, check=True)
    return summary.read_bytes(), proc.stderr, notes


def test_ten_thousand_commits_are_cut_under_one_mib_and_the_cut_is_said(tmp_path):
    rows = "".join("| `%07x` | 2026-12-01 | dev | subject number %d of a long release |\n" % (i, i)
                   for i in range(10000 * 2))
    data, err, notes = run(tmp_path, "## Release notes\n\n| Commit | Date | Author | Subject |\n| --- | --- | --- | --- |\n" + rows)
    assert len(data) < MIB and b"Summary cut" in data and b"release-notes" in data
    lines = [line for line in data.splitlines() if line]
    assert lines[-2].startswith(b"| `") and lines[-2].endswith(b"|")  # whole rows only
    assert lines[-1].startswith(b"> **Summary cut**")
    assert "cut to" in err and notes.stat().st_size > MIB  # the full text stays for the artifact


def test_a_summary_already_nearly_full_gets_only_what_fits(tmp_path):
    data, _err, _notes = run(tmp_path, "line\n" * 100000, already=b"x" * (MIB - 200 * 1024))
    assert len(data) < MIB and b"Summary cut" in data


def test_small_notes_are_appended_whole(tmp_path):
    data, err, _notes = run(tmp_path, "## Release notes\n\nnothing changed\n", already=b"# Deploy\n")
    assert data == b"# Deploy\n## Release notes\n\nnothing changed\n" and err == ""
