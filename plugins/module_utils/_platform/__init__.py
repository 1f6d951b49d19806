# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DigitalOcean App Platform: the API client, deployments, rollback, live app reads, health and
smoke probes of the live URL, the verification of a deployment that went live (verify: the
option app_deploy and app_restart share), restarts, maintenance mode, drift, previews. Not the
App Spec's schema or rendering (_spec).
"""
