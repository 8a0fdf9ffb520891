"""The suite tests itself: a catalogue of deliberately broken reference servers and the sweep that must catch each."""

from .catalogue import CATALOGUE, Entry, by_name, matches, quick_set
from .judge import Verdict, judge_clean, judge_fault

__all__ = ["CATALOGUE", "Entry", "Verdict", "by_name", "judge_clean", "judge_fault", "matches", "quick_set"]
