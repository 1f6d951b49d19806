# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Telling people and systems what happened: webhooks (generic JSON, Slack) and GitHub
Deployments. Not the content of summaries (that is _report).
"""
