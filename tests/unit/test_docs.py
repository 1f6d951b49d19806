"""The README and docs/ (issue 27): a short README, every relative link in README.md and
docs/ resolves, every docs page is in the docsite index, and antsibull-docs (the collection
docsite tool) lints the pages clean."""
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs", "docsite")
RST = os.path.join(DOCS, "rst")
LABEL_PREFIX = "ansible_collections.tachyon.infra.docsite."
MD_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
RST_LINK = re.compile(r"`[^`<]*<([^>`]+)>`__?")
RST_REF = re.compile(r":ref:`(?:[^`<]*<([^>`]+)>|([^`<]+))`")
RST_LABEL = re.compile(r"^\.\. _([^:]+):\s*$", re.M)


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def pages():
    return sorted(name for name in os.listdir(RST) if name.endswith(".rst"))


def slug(heading):
    """GitHub's anchor of a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def is_external(target):
    return re.match(r"^[a-z][a-z0-9+.-]*:", target) is not None


def markdown_problems(path):
    text = read(path)
    anchors = {slug(h) for h in re.findall(r"^#+ (.*)$", text, re.M)}
    problems = []
    for target in MD_LINK.findall(re.sub(r"```.*?```", "", text, flags=re.S)):
        if is_external(target):
            continue
        file_part, _sep, anchor = target.partition("#")
        if not file_part:
            if anchor not in anchors:
                problems.append("%s: #%s is no heading of this file" % (os.path.relpath(path, ROOT), anchor))
            continue
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
        if not os.path.exists(resolved):
            problems.append("%s: %s does not exist" % (os.path.relpath(path, ROOT), target))
    return problems


def test_readme_is_short():
    lines = read(os.path.join(ROOT, "README.md")).count("\n")
    assert lines <= 250, "README.md has %d lines: keep it under 250, move detail to docs/docsite/rst/" % lines


def test_every_relative_link_of_the_readme_resolves():
    assert markdown_problems(os.path.join(ROOT, "README.md")) == []


def test_the_readme_links_every_docs_page():
    readme = read(os.path.join(ROOT, "README.md"))
    missing = [name for name in pages() if "docs/docsite/rst/%s" % name not in readme]
    assert missing == [], "pages the README does not link: %s" % missing


def test_every_link_and_ref_of_the_docs_resolves():
    labels = set()
    for name in pages():
        labels.update(RST_LABEL.findall(read(os.path.join(RST, name))))
    problems = []
    for name in pages():
        path = os.path.join(RST, name)
        text = read(path)
        for explicit, bare in RST_REF.findall(text):
            label = (explicit or bare).strip()
            if label not in labels:
                problems.append("%s: :ref: %s is no label of docs/docsite/rst" % (name, label))
        for target in RST_LINK.findall(text):
            target = target.strip()
            if is_external(target) or target.endswith("_"):
                continue
            if not os.path.exists(os.path.normpath(os.path.join(RST, target.partition("#")[0]))):
                problems.append("%s: %s does not exist" % (name, target))
    for name in os.listdir(os.path.join(ROOT, "docs")):
        if name.endswith(".md"):
            problems += markdown_problems(os.path.join(ROOT, "docs", name))
    assert problems == []


def test_every_page_has_its_label_and_is_in_the_index():
    index = yaml.safe_load(read(os.path.join(DOCS, "extra-docs.yml")))
    listed = [entry if isinstance(entry, str) else entry["ref"]
              for section in index["sections"] for entry in section["toctree"]]
    assert sorted(listed) == sorted(name[:-4] for name in pages()), "extra-docs.yml lists other pages than rst/ holds"
    assert len(listed) == len(set(listed)), "a page is listed twice"
    for name in pages():
        first = read(os.path.join(RST, name)).splitlines()[0]
        assert first == ".. _%s%s:" % (LABEL_PREFIX, name[:-4]), "%s must start with its label" % name


def test_antsibull_docs_lints_the_collection_docs_clean():
    tool = os.path.join(os.path.dirname(sys.executable), "antsibull-docs")
    if not os.path.exists(tool):
        pytest.fail("antsibull-docs is missing from %s: it is in requirements-dev.txt (make setup)"
                    % os.path.dirname(sys.executable), pytrace=False)
    proc = subprocess.run([tool, "lint-collection-docs", ROOT], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
