# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see galaxy.yml)
"""Progress lines of a long-running module (app_deploy, app_rollback, app_preview): each line is
redacted, kept for the result (``progress_lines``) and appended to the file the module's action
plugin names (option ``progress_file``, documented by doc fragment tachyon.infra.progress), which
prints it on the controller while the module runs."""
from __future__ import annotations

from ansible_collections.tachyon.infra.plugins.module_utils._common.redaction import redact_text

PROGRESS_OPTION = {"progress_file": dict(type="path")}


class ProgressLog:
    """Call it with a line: the line, redacted, is kept in ``lines`` and appended to ``path``
    (when given)."""

    def __init__(self, path=None):
        self.path = path
        self.lines = []

    def __call__(self, line):
        line = redact_text(line)
        self.lines.append(line)
        if self.path:
            with open(self.path, "a") as handle:
                handle.write(line + "\n")
