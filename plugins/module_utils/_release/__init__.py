# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Releases: the manifest (format, schema, revisions, replay), the history, pins, registry
digests, release notes and migration facts. Not the deploy itself (_platform).
"""
