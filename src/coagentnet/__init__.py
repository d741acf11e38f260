"""coagentnet: neural networks whose hidden units are RL agents (coagent networks).

Reference: Gupta, Mihucz, Schlegel, Kostas, Thomas, White, "Structural Credit Assignment in
Neural Networks using Reinforcement Learning", NeurIPS 2021.
"""

__version__ = "0.1.0"
