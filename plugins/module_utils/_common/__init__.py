# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cross-cutting helpers every other package may use: input types and strict input checks,
redaction and masking, atomic files, findings. Nothing here talks to a network or to git,
and nothing here imports another tachyon package.
"""
