"""Progress on stderr while a command runs: a live line on a terminal, nothing in a pipe.

Records done out of the total (when the input was read first), the rate, what was written and
rejected, and the time. stdout never carries any of it.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class Progress:
    def __init__(self, command: str, enabled: bool = True) -> None:
        self.command = command
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: RichProgress | None = None
        self._task: int | None = None
        self._fields = {"read": 0, "written": 0, "rejected": 0}

    def start(self) -> None:
        if not self.enabled:
            return
        self._bar = RichProgress(
            SpinnerColumn(),
            TextColumn(f"[bold]{self.command}[/]"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[done]}"),
            TextColumn("{task.fields[rate]}"),
            TextColumn("read {task.fields[read]}  wrote {task.fields[written]}"),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self.command, total=None, done="", rate="",
                                        **self._fields)  # fmt: skip

    def track(self, total: int | None) -> None:
        """How many items the run will do (records, or instructions wanted)."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=total)
            self.update()

    def update(self, advance: int = 0, **fields: int) -> None:
        self._fields |= fields
        if self._bar is None or self._task is None:
            return
        self._bar.update(self._task, advance=advance, **self._fields)
        task = self._bar.tasks[0]
        done = f"{task.completed:.0f}" + (f"/{task.total:.0f}" if task.total else "")
        speed = task.speed
        rate = f"{speed:.1f}/s" if speed else ""
        self._bar.update(self._task, done=done, rate=rate)

    def print(self, message: str) -> None:
        stderr.print(message, markup=False)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
