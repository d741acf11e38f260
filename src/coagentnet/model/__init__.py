"""The model: unit types, the network rollout, partitions, losses, baselines, critics and the
exact enumeration oracle. Pure JAX; nothing here reads a Config."""
