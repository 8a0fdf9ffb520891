"""Declarative YAML cases: the case model, the loader with file:line errors, templates and the matcher."""

from .loader import CaseError, CaseLoadError, load_suite
from .match import MatchFailure, get_path, match
from .model import CaseSpec, CaseSuite, Expect, Fixture, Step
from .template import TemplateError, render

__all__ = ["CaseError", "CaseLoadError", "CaseSpec", "CaseSuite", "Expect", "Fixture", "MatchFailure", "Step",
           "TemplateError", "get_path", "load_suite", "match", "render"]
