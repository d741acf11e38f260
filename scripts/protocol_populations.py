"""Before resuming a carried batch: which populations would `coagentnet sweep` plan now, and
does each find its checkpoint?

    python scripts/protocol_populations.py SWEEP PRESET STORE WORKERS

A checkpoint is found by its population's name, a hash of the population's run ids in order
(``coagentnet.training.checkpoint.population_name``). The planner splits groups until there
are at least WORKERS populations, so resuming with more workers than unfinished populations
renames (and so orphans) a checkpointed population: pick WORKERS so that every line says
"found". Exit status 1 if some planned population has no checkpoint while others do.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    sweep_path, preset, store_path, workers = argv
    from coagentnet.sweeps import plan, sweepfile
    from coagentnet.sweeps.store import COMPLETE, Store
    from coagentnet.training.checkpoint import checkpoint_dir, population_name

    sweep = sweepfile.load(sweep_path, preset=preset)
    status = {}
    if Path(store_path).exists():
        with Store(store_path, readonly=True) as store:
            status = store.statuses([r.id for r in sweep.runs])
    todo = [r for r in sweep.runs if status.get(r.id) not in COMPLETE]
    pops = plan.plan(todo, max_population=sweep.max_population, workers=int(workers))
    folder = checkpoint_dir(store_path)
    found = []
    for pop in pops:
        name = population_name([r.id for r in pop.runs])
        found.append((folder / f"{name}.npz").exists())
        rule = pop.runs[0].config.rule
        print(f"{name}  {rule:<13} {len(pop.runs)} runs  {'found' if found[-1] else 'NONE'}")
    print(f"{len(sweep.runs) - len(todo)} of {len(sweep.runs)} runs complete in {store_path}")
    return 1 if any(found) and not all(found) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
