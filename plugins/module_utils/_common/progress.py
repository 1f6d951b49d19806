# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Progress lines of a long-running module: each line is redacted, made safe for the terminal it
is printed on (escape.terminal: one line, ESC sequences, CR, bidi overrides shown, not obeyed:
a line carries App Platform's words - component names, event causes, phases) and kept for the result
(``progress_lines``). For the modules an action plugin follows live (app_deploy, app_rollback,
app_preview) it is also appended to the file the action plugin names (option ``progress_file``,
documented by doc fragment tachyon.infra.progress), which prints it on the controller while the
module runs; app_restart and app_maintenance keep the lines for their result only."""
from __future__ import annotations

from ansible_collections.tachyon.infra.plugins.module_utils._common.escape import terminal
from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text

PROGRESS_OPTION = {"progress_file": dict(type="path")}


class ProgressLog:
    """Call it with a line: the line, redacted and on one terminal-safe line, is kept in ``lines``
    and appended to ``path`` (when given)."""

    def __init__(self, path=None):
        self.path = path
        self.lines = []

    def __call__(self, line):
        line = terminal(redact_text(line))
        self.lines.append(line)
        if self.path:
            with open(self.path, "a") as handle:
                handle.write(line + "\n")
