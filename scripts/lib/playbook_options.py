"""Check the ansible-playbook options a wrapper (scripts/*.sh) passes on, BEFORE running it.

    python scripts/lib/playbook_options.py <playbook> [ansible-playbook options...]

Parses the options with ansible-playbook's own argument parser (ansible.cli.playbook), so what
is accepted is exactly what ansible-playbook accepts, and refuses the ones that would make the
wrapper's report untrue: options that run only part of the playbook (--tags, --skip-tags,
--start-at-task, --step, --limit) or none of it (--list-*, --syntax-check, --version).

Exit 0: valid; prints "check" when the run is a --check run, else "run".
Exit 2: refused; prints the reason (one line) on stdout for the wrapper to print last.
Exit 3: -h/--help was among the options (e.g. clustered as -vh): print the wrapper's usage.
"""
from __future__ import annotations

import argparse
import sys

# dest -> why the wrapper refuses it ({opt}: the option as given, {playbook}: playbooks/x.yml)
PARTIAL = ("{opt} would run only part of {playbook}, so this command's result would not mean "
           "what it reports; run `ansible-playbook {playbook} {opt} ...` directly")
NOTHING = ("{opt} runs nothing (ansible-playbook only lists or checks {playbook}); run "
           "`ansible-playbook {playbook} {opt}` directly")
REFUSED = {
    "tags": PARTIAL,
    "skip_tags": PARTIAL,
    "start_at_task": PARTIAL,
    "step": PARTIAL,
    "subset": PARTIAL,
    "listhosts": NOTHING,
    "listtasks": NOTHING,
    "listtags": NOTHING,
    "syntax": NOTHING,
}
PLACEHOLDER = "<the wrapper's playbook>"


class Refused(Exception):
    pass


class HelpRequested(Exception):
    pass


class _RefuseVersion(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        raise Refused("--version prints ansible-playbook's version instead of running anything; "
                      "run `ansible-playbook --version`")


def _parser():
    from ansible.cli.playbook import PlaybookCLI

    cli = PlaybookCLI(["ansible-playbook"])
    cli.init_parser()
    parser = cli.parser

    def error(message):
        raise Refused(message)

    def exit_(status=0, message=None):  # only -h/--help makes the parser exit now
        raise HelpRequested()

    parser.error = error
    parser.exit = exit_
    parser.print_help = lambda file=None: None
    for action in parser._actions:  # pylint: disable=protected-access
        if action.dest == "version":
            action.__class__ = _RefuseVersion
    return parser


def check(playbook, options):
    """("run" | "check") for valid ``options``; raises Refused or HelpRequested."""
    parser = _parser()
    # the placeholder first: it stands for the playbook the wrapper adds; anything positional
    # after an option is then "unrecognized", as it would be for ansible-playbook
    namespace = parser.parse_args([PLACEHOLDER] + list(options))
    if namespace.args != [PLACEHOLDER]:
        raise Refused("unexpected argument(s) %s" % " ".join(repr(a) for a in namespace.args[1:]))
    for action in parser._actions:  # pylint: disable=protected-access
        if action.dest in REFUSED and getattr(namespace, action.dest) != action.default:
            raise Refused(REFUSED[action.dest].format(opt=action.option_strings[-1], playbook=playbook))
    return "check" if namespace.check else "run"


def main(argv):
    if len(argv) < 1:
        sys.stderr.write(__doc__)
        return 64
    playbook, options = argv[0], argv[1:]
    try:
        print(check(playbook, options))
    except HelpRequested:
        return 3
    except Refused as exc:
        print(exc)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
