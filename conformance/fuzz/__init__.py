"""Schema-driven fuzzing of the core, executables, workflows and apps routes: positive, negative and stateful,
checked like cases."""

from .config import ALL_MODES, DEFAULT_EXAMPLES, DEFAULT_SEED, FuzzConfig, Mode
from .engine import Replay, replay, run_fuzz
from .findings import FuzzFinding, FuzzReport, load_findings


def replay_by_id(findings_path, finding_id: str, config: FuzzConfig) -> Replay:
    """Replay the finding `finding_id` of a saved report against the server of `config`."""
    for finding in load_findings(findings_path):
        if finding.id == finding_id:
            return replay(finding, config)
    raise KeyError(f"no finding {finding_id!r} in {findings_path}")


__all__ = ["ALL_MODES", "DEFAULT_EXAMPLES", "DEFAULT_SEED", "FuzzConfig", "FuzzFinding", "FuzzReport", "Mode",
           "Replay", "load_findings", "replay", "replay_by_id", "run_fuzz"]
