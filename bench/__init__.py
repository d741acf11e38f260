"""The performance harness, runnable from a checkout as ``python -m bench`` (DESIGN.md section 4).

The harness itself lives in :mod:`coagentnet.bench` (and the ``coagentnet bench`` verb in
:mod:`coagentnet.commands.bench`), so that an installed package has it too; this package is the
checkout's shortcut to it. Measured tables and the commands that produced them are in
``docs/PERFORMANCE.md``.
"""
