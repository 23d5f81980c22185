"""PyYAML's safe loader and dumper: the C ones when PyYAML was built with libyaml.

The C classes read and write several times faster (a 10,000-version ``registry.yaml`` is
megabytes); a PyYAML without libyaml falls back to the pure-Python classes, which accept
and produce the same documents.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SafeDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load(text: str | bytes) -> Any:
    """``text`` read with :data:`SafeLoader` (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=SafeLoader)
