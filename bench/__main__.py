"""``python -m bench [options]`` is ``coagentnet bench [options]``."""

import sys

from coagentnet.cli import main
from coagentnet.training.devices import use_cpu_cores

if __name__ == "__main__":
    use_cpu_cores()  # as the ``coagentnet`` command line does
    sys.exit(main(["bench", *sys.argv[1:]]))
