# -*- coding: utf-8 -*-
# Copyright: Tachyon platform team
# Apache-2.0 (see LICENSE)
"""detect-secrets plugins for token formats its default plugins miss.

* DigitalOcean API tokens: ``dop_v1_`` (personal access), ``doo_v1_`` (OAuth) and
  ``dor_v1_`` (refresh) followed by 64 lowercase hex characters.
* GitHub fine-grained personal access tokens: ``github_pat_`` followed by 82 word
  characters (detect-secrets' GitHubTokenDetector only knows ``ghp_``/``gho_``/...).

They are ordinary ``RegexBasedDetector`` subclasses, so detect-secrets can also load
this file as a custom plugin (``detect-secrets scan --plugin <this file>``).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

try:
    from detect_secrets.plugins.base import RegexBasedDetector
except ImportError:  # reported by the caller with missing_required_lib()
    RegexBasedDetector = object


class DigitalOceanTokenDetector(RegexBasedDetector):
    """DigitalOcean personal access, OAuth and refresh tokens."""

    secret_type = "DigitalOcean Token"  # pragma: allowlist secret
    denylist = [re.compile(r"\b(do[opr]_v1_[a-f0-9]{64})\b")]


class GitHubFineGrainedTokenDetector(RegexBasedDetector):
    """GitHub fine-grained personal access tokens."""

    secret_type = "GitHub Fine-Grained Token"  # pragma: allowlist secret
    denylist = [re.compile(r"\b(github_pat_\w{82})\b")]


DETECTORS = (DigitalOceanTokenDetector, GitHubFineGrainedTokenDetector)
