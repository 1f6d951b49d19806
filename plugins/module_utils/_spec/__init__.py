# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The App Spec: DigitalOcean's vendored schema and our overlay, the rules, rendering per
environment and the redacted diff. Not the live app (_platform).
"""
