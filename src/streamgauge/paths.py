"""Where each part keeps its state under the data directory (a light module: the CLI's
quick commands import it without loading the engine)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DataPaths:
    """Where each part keeps its state under the data directory."""

    root: Path
    log: Path = field(init=False)
    hot: Path = field(init=False)
    keys: Path = field(init=False)
    archive: Path = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "log", self.root / "log" / "log.db")
        object.__setattr__(self, "hot", self.root / "hot" / "hot.duckdb")
        object.__setattr__(self, "keys", self.root / "keys.db")
        object.__setattr__(self, "archive", self.root / "archive")
