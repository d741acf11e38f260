"""The studies' sweep files on disk: where ``experiments/`` is, and checking that each study's
files define a preset before anything runs.
"""

from __future__ import annotations

from pathlib import Path

from coagentnet.reproduce.names import PRESETS


def check_preset(studies, preset: str, exp_dir: Path) -> None:
    """Raise ``ValueError`` (one line) if ``preset`` is unknown or a study's file lacks it."""
    from coagentnet.sweeps import sweepfile

    if preset not in PRESETS:
        raise ValueError(f"--preset: unknown {preset!r}; allowed: {', '.join(PRESETS)}")
    for st in studies:
        for exp in st.experiments:
            path = exp_dir / st.name / f"{exp.file}.yaml"
            if not path.exists():
                continue  # reported by the runner, with the other studies still run
            have = sweepfile.preset_names(sweepfile.read(path))
            if preset not in have:
                raise ValueError(
                    f"--preset: study {st.name!r} does not define {preset!r} "
                    f"({path.name} has: {', '.join(have) or 'none'})"
                )


def experiments_dir() -> Path:
    """``experiments/`` of the source checkout (an editable install), else of the cwd."""
    here = Path(__file__).resolve().parents[3] / "experiments"
    return here if here.is_dir() else Path.cwd() / "experiments"
