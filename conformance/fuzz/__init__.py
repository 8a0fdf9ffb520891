"""Schema-driven fuzzing of the core, executables, workflows and apps routes: positive, negative and stateful,
checked like cases. The package's face is what a run's plan needs without the fuzzer behind it (hypothesis and
schemathesis load only with conformance.fuzz.engine: run_fuzz, replay)."""

from .config import ALL_MODES, CORE, DEFAULT_EXAMPLES, DEFAULT_SEED, FUZZ_PROFILES, FuzzConfig, Mode
from .findings import FuzzFinding, FuzzReport, load_findings

__all__ = ["ALL_MODES", "CORE", "DEFAULT_EXAMPLES", "DEFAULT_SEED", "FUZZ_PROFILES", "FuzzConfig", "FuzzFinding",
           "FuzzReport", "Mode", "load_findings"]
