"""The terminal side shared by doublet's commands: progress on stderr, report lines, problem lists, help text."""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichBar
from rich.text import Text

from .documents import InputProblem

MAX_PROBLEMS_SHOWN = 10


def unwrap(text: str) -> str:
    """Join hard-wrapped prose lines (rich help keeps every newline); indented example blocks stay."""
    blocks = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(b if b.startswith("  ") else " ".join(b.split("\n")) for b in blocks)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 pair``, ``2 pairs``, ``1,000 documents``: the count with the word agreeing with it."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def show_problems(console: Console, problems: Sequence[InputProblem], where: str) -> None:
    """The first records rejected (in red) and repaired (in yellow: read after a fix, e.g. decoded as
    Windows-1252; not a problem to act on), each group counted apart, and where the rest are listed."""
    for action, style, head in (("rejected", "red", "rejected"), ("repaired", "yellow", "repaired (read after a fix)")):
        group = [p for p in problems if p.action == action]
        if not group:
            continue
        n = len(group)
        what = plural(n, "input record") if all(p.scope == "record" for p in group) else plural(n, "input")
        console.print(Text(f"{what} {head}:", style="bold"), soft_wrap=True)
        for p in group[:MAX_PROBLEMS_SHOWN]:
            console.print(Text("  " + p.message(), style=style), soft_wrap=True)
        if n > MAX_PROBLEMS_SHOWN:
            console.print(Text(f"  … and {n - MAX_PROBLEMS_SHOWN:,} more in {where}"), soft_wrap=True)


class _StateColumn(SpinnerColumn):
    """A spinner while a stage runs, a check mark once it is done (also when its total was unknown)."""

    def render(self, task: Task) -> Any:
        return Text("✓", style="green") if task.fields.get("over") else super().render(task)


class _CountColumn(ProgressColumn):
    """``done/total`` when the total is known, else ``done`` (once there is any), and the mean rate."""

    def render(self, task: Task) -> Text:
        done = int(task.completed)
        if task.total is not None:
            text = f"{done:,}/{int(task.total):,}"
        elif done:
            text = f"{done:,}"
        else:
            return Text("")
        if done and task.elapsed:
            text += f"  {done / task.elapsed:,.0f}/s"
        return Text(text, style="progress.download")


class _KnownBar(BarColumn):
    """A bar only when the total is known (the spinner alone says "working" otherwise)."""

    def render(self, task: Task) -> Any:
        return super().render(task) if task.total is not None else Text("")


class RichProgress:
    """The :class:`doublet.progress.Progress` protocol drawn with rich on stderr, one line per stage."""

    _REFRESH_S = 0.1

    def __init__(self, console: Console) -> None:
        self._bar = RichBar(_StateColumn(), TextColumn("{task.description:<14}"), _KnownBar(bar_width=30),
                            _CountColumn(), TimeElapsedColumn(), console=console, transient=False)
        self._task: Any = None
        self._pending = 0
        self._last = 0.0

    def start(self, stage: str, total: int | None = None) -> None:
        if self._task is not None:
            self.done()
        if not self._bar.live.is_started:
            self._bar.start()
        self._task = self._bar.add_task(stage, total=total, over=False)
        self._pending, self._last = 0, time.monotonic()

    def advance(self, n: int = 1) -> None:
        self._pending += n
        now = time.monotonic()
        if now - self._last >= self._REFRESH_S:  # updating rich per item would cost more than the work
            self._flush()
            self._last = now

    def done(self) -> None:
        if self._task is None:
            return
        self._flush()
        self._bar.update(self._task, over=True)
        self._bar.stop_task(self._task)
        self._task = None

    def close(self) -> None:
        if self._task is not None:
            self.done()
        if self._bar.live.is_started:
            self._bar.stop()

    def _flush(self) -> None:
        if self._pending and self._task is not None:
            self._bar.advance(self._task, self._pending)
            self._pending = 0


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


def line(console: Console, label: str, value: str) -> None:
    console.print(Text.assemble((f"  {label:<11}", "bold"), value), soft_wrap=True)
