"""Progress reporting hooks: engines report stages, front ends (CLI, server) decide how to show them."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives the progress of a run. ``total`` is ``None`` when unknown (streaming input)."""

    def start(self, stage: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def done(self) -> None: ...


class NullProgress:
    """Reports nothing (the default for the Python API)."""

    def start(self, stage: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def done(self) -> None:
        pass
