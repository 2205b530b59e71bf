"""Progress of a long backtest on stderr (rich), or nothing with --quiet."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def progress_bar(total: int, *, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """Yield a callback (done, total) that draws a bar on stderr; None when quiet."""
    if quiet:
        yield None
        return
    if not sys.stderr.isatty():
        yield _plain_lines(total)
        return
    from rich.console import Console

    bar = Progress(
        TextColumn("backtest"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} trades"),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task = bar.add_task("backtest", total=total)

    def update(done: int, _total: int) -> None:
        bar.update(task, completed=done)

    with bar:
        yield update
        bar.update(task, completed=total)


def _plain_lines(total: int) -> Callable[[int, int], None]:
    """A line per tenth of the run: rich draws nothing when stderr is a file or a pipe."""
    shown = [0]

    def update(done: int, _total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth > shown[0]:
            shown[0] = tenth
            print(f"backtest: {tenth * 10}% ({done:,}/{total:,} trades)", file=sys.stderr)

    return update
