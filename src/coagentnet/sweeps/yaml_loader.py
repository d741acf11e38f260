"""The YAML loader of sweep files: PyYAML's safe loader, with YAML 1.2 floats and no
duplicate keys."""

from __future__ import annotations

import re

import yaml


class SweepLoader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-3`` as a float (YAML 1.2); PyYAML's 1.1 rules need
    ``1.0e-3`` and would hand us the string ``'1e-3'`` for a learning rate."""


SweepLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _unique_keys(loader: SweepLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    """A mapping whose keys are unique: YAML would silently keep the last of two ``lr``s."""
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.setdefault(key, key_node)
        except TypeError:  # an unhashable key: the generic constructor reports it
            break
        if first is not key_node:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


SweepLoader.construct_mapping = _unique_keys
