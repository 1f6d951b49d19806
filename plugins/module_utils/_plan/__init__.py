# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a deploy decides: the promotion gates and their verdicts. Not how a deploy is applied
(that is _platform).
"""
