"""Faults that only generated inputs are expected to find (edge values, wrong types, rare output gaps).

Registered into faults.FAULTS on import (faults.py imports this module at its end).
"""

from __future__ import annotations
