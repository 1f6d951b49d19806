# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""Secret scan of a source tree: detect-secrets' default plugins plus our detectors.

What a pull-request gate must see is what would be committed: the git-tracked files
plus untracked files that are not ignored (``git ls-files --cached --others
--exclude-standard``). Outside a git work tree every file under the root is scanned.
Virtualenvs, collection links and build output are always skipped.

With a cache directory, a file whose exact content (and path) was scanned clean before, by
the same detect-secrets version, plugins and code, is not scanned again: only sha256
digests of clean files are kept (nothing derived from a finding is ever written).

Findings are ``{"file", "line", "type"}``: the secret text is never returned. A
detect-secrets baseline file (``detect-secrets scan > .secrets.baseline``) allowlists
known findings by file and hashed secret, so moving a line does not re-open it; a line
can also carry detect-secrets' inline ``pragma: allowlist secret`` comment.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import math
import multiprocessing
import os
import re
import sys
import tempfile
import threading

from ansible_collections.tachyon.infra.plugins.module_utils._common.patterns import FULL_SHA_RE
from ansible_collections.tachyon.infra.plugins.module_utils._git.run import GitError, run_git
from ansible_collections.tachyon.infra.plugins.module_utils._validate.secret_detectors import DETECTORS

# Directories never scanned, wherever they are in the tree (relative path prefixes or
# any path component).
DEFAULT_EXCLUDES = (".git", ".venv", "venv", ".collections", ".cache", ".ansible",
                    ".pytest_cache", "__pycache__", "node_modules", "build", ".tox",
                    ".sandbox", ".sanity", "tests/output", "bench/out")
MAX_FILE_BYTES = 2 * 1024 * 1024
# detect-secrets' own default entropy limits (HighEntropyString plugins).
BASE64_LIMIT = 4.5
HEX_LIMIT = 3.0
HEX_CHARS = set("0123456789abcdefABCDEF")


def _excluded(rel, excludes):
    parts = rel.replace(os.sep, "/").split("/")
    for pattern in excludes:
        pattern = pattern.strip("/")
        if "/" in pattern:
            if rel == pattern or rel.startswith(pattern + "/"):
                return True
        elif pattern in parts:
            return True
    return False


def _git_files(root):
    """Tracked + untracked non-ignored files, or None when root is not a git work tree."""
    try:
        top = run_git(["-C", root, "rev-parse", "--show-toplevel"], what="the secret scan")
    except GitError:
        return None
    if top.returncode != 0 or os.path.realpath(top.stdout.strip()) != os.path.realpath(root):
        return None
    out = run_git(["-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                  text=False, what="the secret scan")
    if out.returncode != 0:
        raise GitError("git ls-files in %s failed: %s" % (root, out.stderr.decode("utf-8", "replace").strip()))
    return sorted({p for p in out.stdout.decode("utf-8", "surrogateescape").split("\0") if p})


def _walk_files(root, excludes):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        dirnames[:] = sorted(d for d in dirnames
                             if not _excluded((rel_dir + "/" + d).lstrip("/"), excludes))
        found.extend((rel_dir + "/" + f).lstrip("/") for f in filenames)
    return sorted(found)


def list_files(root, excludes=DEFAULT_EXCLUDES):
    """Relative paths of the files a scan of ``root`` covers (regular, text-sized files)."""
    files = _git_files(root)
    if files is None:
        files = _walk_files(root, excludes)
    keep = []
    for rel in files:
        if _excluded(rel, excludes):
            continue
        path = os.path.join(root, rel)
        if os.path.islink(path) or not os.path.isfile(path):
            continue  # deleted but still tracked, sockets, symlinks (scanned at their target)
        if os.path.getsize(path) > MAX_FILE_BYTES:
            continue
        keep.append(rel)
    return keep


def load_baseline(path):
    """Allowlist from a detect-secrets baseline: a set of (file, hashed_secret)."""
    if not path or not os.path.exists(path):
        return set()
    with open(path) as handle:
        try:
            data = json.load(handle)
        except ValueError as exc:
            raise ValueError("%s is not a detect-secrets baseline (invalid JSON: %s)" % (path, exc))
    allowed = set()
    for filename, entries in (data.get("results") or {}).items():
        for entry in entries:
            allowed.add((filename.replace(os.sep, "/"), entry.get("hashed_secret")))
    return allowed


def _register_detectors():
    """Make our detectors known to detect-secrets, return every plugin class name.

    detect-secrets only loads custom plugins from a file on disk (``file://`` paths in its
    settings); Ansible runs modules from a zip archive, so the classes are added to
    detect-secrets' plugin registry directly instead.
    """
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    mapping = get_mapping_from_secret_type_to_class()
    for cls in DETECTORS:
        mapping.setdefault(cls.secret_type, cls)
    return sorted(cls.__name__ for cls in mapping.values())


def _is_binary(path):
    with open(path, "rb") as handle:
        return b"\0" in handle.read(8192)


# Git commit SHAs are identifiers, not credentials, and this project pins releases by SHA
# everywhere (manifests, fixtures, service -> SHA maps): a hex string of exactly 40
# characters is a commit SHA. Other hex strings pass only on a line that talks about
# commits or images (short SHAs, sha256 image digests).
_ID_WORDS = re.compile(r"sha|commit|revision|digest|\btag", re.IGNORECASE)
_ID_HEX = re.compile(r"^([0-9a-f]{7,40}|[0-9a-f]{64})$")


def _is_identifier(secret, line):
    value = str(secret.secret_value or "")
    if secret.type != "Hex High Entropy String":
        return False
    return bool(FULL_SHA_RE.fullmatch(value)) or (bool(_ID_HEX.match(value)) and bool(_ID_WORDS.search(line)))


_NOT_SECRETS = {"true", "false", "yes", "no", "null", "none", "~"}


def _scan_chunk(args):
    root, files, allowed = args
    from detect_secrets.core import scan as ds_scan
    from detect_secrets.settings import transient_settings

    findings, scanned, clean = [], 0, []
    with transient_settings({"plugins_used": [{"name": n} for n in _register_detectors()]}):
        for rel in files:
            path = os.path.join(root, rel)
            if _is_binary(path):
                continue
            scanned += 1
            lines = None
            count = len(findings)
            allowlisted = False
            for secret in ds_scan.scan_file(path):
                if (rel, secret.secret_hash) in allowed:
                    allowlisted = True  # allowed by the baseline, which may change: not clean
                    continue
                if secret.type == "Secret Keyword" and \
                        str(secret.secret_value).strip("'\"{}[], ").lower() in _NOT_SECRETS:
                    continue  # `secret: true` in a schema or form is a flag, not a secret
                if secret.type == "Hex High Entropy String":
                    if lines is None:
                        with open(path, errors="replace") as handle:
                            lines = handle.read().splitlines()
                    line = lines[secret.line_number - 1] if 0 < secret.line_number <= len(lines) else ""
                    if _is_identifier(secret, line):
                        continue
                findings.append({"file": rel, "line": secret.line_number, "type": secret.type})
            if len(findings) == count and not allowlisted:
                clean.append(rel)
    return findings, scanned, clean


def _rules_digest():
    """What a file's scan result depends on besides the file: detect-secrets' version, the
    plugins and this code (read through the module loader: Ansible runs it from a zip).
    None when the code cannot be read (then nothing is cached)."""
    from detect_secrets.__version__ import VERSION
    plugins = ",".join(_register_detectors())
    digest = hashlib.sha256(("%s|%s|%s" % (VERSION, sys.version_info[:2], plugins)).encode())
    for name in (__name__, DETECTORS[0].__module__):
        module = sys.modules.get(name)
        loader = getattr(module, "__loader__", None)
        try:
            source = loader.get_source(name)
        except Exception:  # pylint: disable=broad-except
            source = None
        if not source:
            return None
        digest.update(source.encode("utf-8"))
    return digest.hexdigest()


def _file_digest(root, rel):
    digest = hashlib.sha256(rel.encode("utf-8", "surrogateescape") + b"\0")
    with open(os.path.join(root, rel), "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class CleanCache:
    """sha256 digests of (path, content) of files scanned clean, in ``<dir>/secret-scan.json``."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "secret-scan.json")
        self.rules = _rules_digest()
        self.clean = set()
        if self.rules is None:
            return
        try:
            with open(self.path) as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("rules") == self.rules:
            self.clean = set(data.get("clean") or ())

    def save(self, digests):
        if self.rules is None:
            return
        directory = os.path.dirname(self.path)
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secret-scan.", dir=directory)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump({"rules": self.rules, "clean": sorted(digests)}, handle)
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def scan(root, files=None, baseline=None, excludes=DEFAULT_EXCLUDES, processes=None, cache_dir=None,
         stats=None):
    """Scan ``files`` (relative to ``root``; default: list_files(root)).

    Returns ``(findings, scanned)``: findings sorted by file and line, each
    ``{"file", "line", "type"}``; ``scanned`` is the number of files scanned (with
    ``cache_dir``, files unchanged since a clean scan count as scanned). Large trees are
    scanned in parallel (detect-secrets costs a few ms per kB). ``stats``, a dict, gets
    ``cached``: how many files the cache spared.
    """
    root = os.path.abspath(root)
    files = list_files(root, excludes) if files is None else list(files)
    allowed = load_baseline(baseline)
    if baseline:
        # the baseline holds hashes of secrets, which look like secrets themselves
        files = [f for f in files if os.path.abspath(os.path.join(root, f)) != os.path.abspath(baseline)]
    cache, digests, known = None, {}, []
    if cache_dir:
        cache = CleanCache(cache_dir)
        digests = {rel: _file_digest(root, rel) for rel in files}
        known = [rel for rel in files if digests[rel] in cache.clean]
        files = [rel for rel in files if digests[rel] not in cache.clean]
    processes = processes or min(os.cpu_count() or 1, 4)
    # fork() is only safe in a single-threaded process: a lock held by another thread at fork
    # time (logging, an HTTP server in a test) stays held forever in the child. Module runs
    # are single-threaded; anything else scans serially.
    if processes > 1 and len(files) > 20 and threading.active_count() == 1:
        chunks = [(root, files[i::processes], allowed) for i in range(processes)]
        pool = multiprocessing.get_context("fork").Pool(processes)
        try:
            results = pool.map(_scan_chunk, chunks)
        finally:
            # close + join, not the context manager's terminate(): terminate() kills workers
            # that may hold the task queue's lock, and a worker still starting then waits on
            # that lock forever (seen as a hung test run).
            pool.close()
            pool.join()
    else:
        results = [_scan_chunk((root, files, allowed))]
    findings, seen, scanned, clean = [], set(), len(known), list(known)
    for chunk_findings, chunk_scanned, chunk_clean in results:
        scanned += chunk_scanned
        clean.extend(chunk_clean)
        for finding in chunk_findings:
            key = (finding["file"], finding["line"], finding["type"])
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    findings.sort(key=lambda f: (f["file"], f["line"], f["type"]))
    if cache is not None:
        cache.save(digests[rel] for rel in clean)
    if stats is not None:
        stats["cached"] = len(known)
    return findings, scanned


def shannon_entropy(value):
    if not value:
        return 0.0
    counts = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    return -sum(c / len(value) * math.log(c / len(value), 2) for c in counts.values())


def looks_like_secret(value):
    """Name of the credential kind ``value`` looks like, or None.

    A known token format (detect-secrets' plugins and ours, the line scanned as
    ``value`` alone) or a random-looking string by detect-secrets' own entropy limits
    (hex >= 3.0 bits/char, other >= 4.5, at least 16 characters).
    """
    from detect_secrets.settings import get_settings, transient_settings
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.keyword import KeywordDetector

    value = value.strip()
    if not value:
        return None
    names = _register_detectors()
    with transient_settings({"plugins_used": [{"name": n} for n in names]}):
        from detect_secrets.settings import get_plugins
        for plugin in get_plugins():
            if isinstance(plugin, (HighEntropyStringsPlugin, KeywordDetector)):
                continue  # keyword needs context; entropy is judged below without quotes
            if any(True for _secret in plugin.analyze_string(value)):
                return plugin.secret_type
    get_settings()
    if len(value) >= 16:
        limit = HEX_LIMIT if set(value) <= HEX_CHARS else BASE64_LIMIT
        if shannon_entropy(value) >= limit:
            return "High Entropy String"
    return None


HINT = ("remove the secret and rotate it if it was real; for a false positive add the inline "
        "comment 'pragma: allowlist secret' or record it in the detect-secrets baseline")


def format_findings(findings):
    """One report line per finding (``file:line: type``, never the secret), then the hint."""
    lines = ["%s:%s: %s" % (f["file"], f["line"], f["type"]) for f in findings]
    return lines + ["hint: " + HINT] if lines else []
