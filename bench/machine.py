"""What the figures were measured on: machine, interpreters, tool versions, load."""
import datetime
import os
import platform
import subprocess
import sys
from importlib import metadata

from bench import ROOT


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_head():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        return out + (" (uncommitted changes in the tree)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_average():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "unknown"


def describe():
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": "%s (%s)" % (platform.python_version(), sys.executable),
        "ansible": _version("ansible"),
        "ansible-core": _version("ansible-core"),
        "pydo": _version("pydo"),
        "jsonschema": _version("jsonschema"),
        "ansible-lint": _version("ansible-lint"),
        "commit": git_head(),
        "load_at_start": load_average(),
    }
