# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Append a markdown file to the GitHub job summary ($GITHUB_STEP_SUMMARY), capped under GitHub's
1 MiB per step summary by the collection's own rule (_report/summary.cap: counts what the summary
already holds, cuts at a line, says what was cut and where the full text is). The full text
stays in FILE, which the workflow uploads as an artifact.

    python scripts/step-summary.py FILE [ARTIFACT_NAME]
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from ansible_collections.tachyon.infra.plugins.module_utils._report.summary import cap  # noqa: E402


def main(argv):
    if not argv or len(argv) > 2:
        sys.stderr.write(__doc__)
        return 2
    path = argv[0]
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        sys.stderr.write("step-summary: GITHUB_STEP_SUMMARY is not set; nothing written\n")
        return 0
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    already = os.path.getsize(summary) if os.path.exists(summary) else 0
    where = "the artifact %s" % argv[1] if len(argv) > 1 else path
    capped, cut = cap(text, already=already, full_path=where)
    with open(summary, "a", encoding="utf-8") as handle:
        handle.write(capped)
    if cut:
        sys.stderr.write("step-summary: cut to %d of %d bytes (GitHub's 1 MiB limit); the full text: %s\n"
                         % (cut["kept_bytes"], cut["total_bytes"], where))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
