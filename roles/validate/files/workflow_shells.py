"""Every `run:` step of the GitHub workflows runs under `set -euo pipefail`.

GitHub's default shell for `run:` is `bash -e {0}`: without pipefail, `gh ... | jq ...` whose
gh failed goes on with jq's output of nothing (the preview reaper then deleted the previews of
open pull requests). A step passes when its effective shell (the step's `shell:`, else the
job's `defaults.run.shell`, else the workflow's) is bash with -e, -u and -o pipefail, e.g.
`defaults: {run: {shell: "bash --noprofile --norc -euo pipefail {0}"}}`, or when its script's
first command is `set -euo pipefail` (the letters in any order, -E allowed).

    python3 workflow_shells.py [DIR_OR_FILE...]     (default: .github/workflows)
Prints one line per finding (file, job, step, what to do); exit 0 clean, 1 findings, 2 a file
that cannot be read as a workflow.
"""
import os
import re
import shlex
import sys

import yaml

FIX = ("add `defaults: {run: {shell: bash --noprofile --norc -euo pipefail {0}}}` to the workflow "
       "or begin the script with `set -euo pipefail`")
SET_LINE = re.compile(r"^set\s+-(?=[a-zA-Z]*e)(?=[a-zA-Z]*u)[a-zA-Z]*o\s+pipefail\s*(?:;.*|#.*)?$")


def shell_is_strict(shell):
    """True when a `shell:` value is bash with errexit, nounset and pipefail."""
    try:
        argv = shlex.split(shell)
    except ValueError:
        return False
    if not argv or os.path.basename(argv[0]) != "bash":
        return False
    flags, options = set(), set()
    for i, token in enumerate(argv[1:], start=1):
        if token.startswith("--"):
            continue
        if token.startswith("-") and token != "-":
            letters = token[1:]
            flags.update(letters)
            if letters.endswith("o") and i + 1 < len(argv):
                options.add(argv[i + 1])
    return "e" in flags and "u" in flags and "pipefail" in options


def script_is_strict(script):
    """True when the script's first command is `set -euo pipefail` (letters in any order)."""
    for line in script.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        return bool(SET_LINE.match(line))
    return False


def _shell(*scopes):
    for scope in scopes:
        shell = (((scope or {}).get("defaults") or {}).get("run") or {}).get("shell")
        if shell:
            return shell
    return None


def findings(path, data):
    """Findings of one workflow (already parsed); each a line naming file, job and step."""
    out = []
    for job_id, job in (data.get("jobs") or {}).items():
        job = job or {}
        for index, step in enumerate(job.get("steps") or []):
            if "run" not in step:
                continue
            shell = step.get("shell") or _shell(job, data)
            if shell and shell_is_strict(shell):
                continue
            if (shell is None or shell.split()[0] == "bash") and script_is_strict(str(step["run"])):
                continue
            name = step.get("name") or step.get("id") or str(step["run"]).strip().splitlines()[0][:60]
            how = "shell %r" % shell if shell else "the default shell (bash -e, no pipefail)"
            out.append("%s: job %s step %d (%s): run under %s: %s" % (path, job_id, index + 1, name, how, FIX))
    return out


def workflow_files(args):
    for arg in args:
        if os.path.isdir(arg):
            for name in sorted(os.listdir(arg)):
                if name.endswith((".yml", ".yaml")):
                    yield os.path.join(arg, name)
        else:
            yield arg


def main(argv):
    files = list(workflow_files(argv or [os.path.join(".github", "workflows")]))
    problems = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError) as exc:
            print("%s: cannot be read as a workflow: %s" % (path, exc))
            return 2
        if not isinstance(data, dict):
            print("%s: not a workflow (a YAML mapping with jobs)" % path)
            return 2
        problems.extend(findings(path, data))
    for line in problems:
        print(line)
    if problems:
        return 1
    print("workflow shells: %d file(s), every run step under set -euo pipefail" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
