# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every git call the collection makes: the deploy lock and freezes in the hub's remote (ref
compare-and-swap) and the bare-mirror cache the release notes and metrics read. Not the
manifest's meaning (that is _release).
"""
