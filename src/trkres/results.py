"""The shape every analysis result shares: a read-only mapping of its tables by name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["TableResult"]


@dataclass(frozen=True, eq=False)
class TableResult(Mapping[str, pd.DataFrame]):
    """Tables by name (``result["name"]``, ``"name" in result``, ``dict(result)``), in the
    order they are written; subclasses add the result's other parts as fields."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.tables:
            raise KeyError(f"no table {name!r} in this result (computed: {', '.join(self.tables)})")
        return self.tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)
