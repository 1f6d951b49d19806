# -*- coding: utf-8 -*-
# Copyright: tachyon-infra contributors
# Apache License 2.0 (see LICENSE)
"""Base of the lookups that compute one value from one file on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase


class OnePathLookup(LookupBase):
    """``lookup('<name>', path, **options)`` -> ``[self.compute(path)]``.

    Subclasses set ``errors`` (the exceptions that mean bad input) and ``compute(path)``;
    those exceptions become an AnsibleLookupError carrying their message unchanged.
    """

    errors = ()

    def compute(self, path):  # pragma: no cover - always overridden
        raise NotImplementedError

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError("%s takes one path, got %d" % (self._load_name, len(terms)))
        try:
            return [self.compute(str(terms[0]))]
        except self.errors as exc:
            raise AnsibleLookupError(str(exc))
