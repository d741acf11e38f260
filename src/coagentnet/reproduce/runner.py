"""Running the paper's studies: the missing runs of each sweep file of a study, one SQLite
store per sweep file (resumable), through the sweep driver
(:func:`coagentnet.sweeps.driver.run_missing`).

Layout of an output folder (default ``results/reproduce/<preset>/``)::

    <study>/<file>.sqlite           the store of one sweep file (its meta table names the
                                    study, file, preset and command, so reports need no more)
    <study>/figures/<file>-<fig>.png/.svg    (figures and tables sit next to their store)
    <study>/<file>-final.csv        the final table (one row per method)
    report.html, summary.json, summary.md   (see :mod:`coagentnet.reproduce.report`)
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from coagentnet.reproduce.studies import Study
from coagentnet.reproduce.study_files import experiments_dir
from coagentnet.sweeps import sweepfile
from coagentnet.sweeps.driver import run_missing
from coagentnet.sweeps.execute import Summary
from coagentnet.sweeps.population_worker import TrainOptions
from coagentnet.sweeps.provenance import note_sweep_file
from coagentnet.sweeps.store import Store
from coagentnet.training.checkpoint import CheckpointPolicy, checkpoint_dir

META_KEY = "reproduce"


def store_path(out: Path, study_name: str, file: str) -> Path:
    return out / study_name / f"{file}.sqlite"


def run_study(
    st: Study,
    preset: str,
    out: Path,
    *,
    command: str,
    backend_factory: Callable,
    progress_factory: Callable | None = None,
    exp_dir: Path | None = None,
) -> Summary:
    """Run the missing runs of every sweep file of a study under ``preset``.

    ``backend_factory()`` gives a fresh backend (see :mod:`coagentnet.sweeps.backends`);
    ``progress_factory(total)`` an optional progress object. A sweep file that fails to
    load (e.g. a config field this version lacks) is logged and skipped, so one broken
    study does not stop the others. Returns the study's counters summed over its files.
    """
    log = Summary()
    t0 = time.perf_counter()
    exp_dir = exp_dir or experiments_dir()
    for exp in st.experiments:
        path = exp_dir / st.name / f"{exp.file}.yaml"
        try:
            sweep = sweepfile.load(path, preset=preset)
        except Exception as err:  # a SweepError, or a missing file
            log.errors.append(f"{path}: {err}")
            continue
        path_of_store = store_path(out, st.name, exp.file)
        # Checkpoints beside each store: an interrupted reproduce resumes mid-population.
        policy = CheckpointPolicy(str(checkpoint_dir(path_of_store)))
        with Store(path_of_store) as store:
            meta = {
                "study": st.name,
                "experiment": exp.file,
                "preset": preset,
                "file": str(path),
                "command": command,
                # The runs of this preset's sweep: a store kept across an edit of the sweep
                # file is analysed for the current grid only.
                "runs": [r.id for r in sweep.runs],
            }
            store.set_meta(META_KEY, json.dumps(meta, sort_keys=True))
            note_sweep_file(store, path)

            def announce(found: Summary, name: str = exp.file) -> None:
                if found.todo:
                    sys.stderr.write(  # one write: an interrupt cannot split the line
                        f"reproduce {st.name}/{name} ({preset}): {found.runs} runs, "
                        f"{found.todo} to run in {found.populations} populations\n"
                    )
                    sys.stderr.flush()

            log.add(
                run_missing(
                    sweep,
                    store,
                    backend_factory,
                    progress_factory,
                    on_plan=announce,
                    options=TrainOptions(policy),
                )
            )
    log.seconds = time.perf_counter() - t0
    return log


def read_meta(path: Path) -> dict:
    """The reproduce note of a store ({} for a store made by ``coagentnet sweep``)."""
    with Store(path, readonly=True) as store:
        text = store.get_meta(META_KEY)
        meta = json.loads(text) if text else {}
        meta["counts"] = store.counts(meta.get("runs"))
    return meta
