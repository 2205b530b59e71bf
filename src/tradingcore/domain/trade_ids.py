"""The trade ids seen in one session, kept as runs of evenly spaced ids: a few bytes a session.

B3 numbers each instrument's trades of a session 10, 20, 30, ... (the real NEG files here:
77,741 trades, 3 steps that are not 10), and a feed delivers them nearly in order, so a session
of millions of ids is a handful of runs `first, first + step, ..., first + step * (count - 1)`.
A plain `set[int]` costs ~65 bytes an id (~130 MB for a 2M-trade session).

Ids above every id seen (`high`) extend the last run or start a new one; an id below it extends
the run it follows, or else is kept in `loose`, an ordinary set. Runs never overlap, so a
lookup is one bisect over their first ids. Costs: in-order ids with a constant step, ~0 bytes
an id; increasing ids with irregular gaps, <= 12 bytes (runs of two); ids in random order, a
set's (they go to `loose`).

One thread may add while others look up (the capture host's writer records batches while its
feed thread admits trades): a lookup never misses an id that was added before it began, nor
finds one that was not. Writes only ever add ids, in an order that keeps that true: a run's
step is set before its count grows (and a lookup reads the count first), a new run's first id
goes in last, and `high` moves after the run that holds it.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from heapq import merge
from typing import Final

NOTHING_SEEN: Final = -1


class TradeIdSet:
    """A set of non-negative trade ids, compact when they come nearly in order."""

    __slots__ = ("_counts", "_firsts", "_steps", "high", "loose")

    def __init__(self, trade_ids: Iterable[int] = ()) -> None:
        self._firsts = array("q")
        self._steps = array("q")
        """A run of one id has step 1 until a second id gives it its real step."""
        self._counts = array("q")
        self.loose: set[int] = set()
        """Ids that arrived below `high` and follow no run."""
        self.high = NOTHING_SEEN
        """The highest id seen: the last id of the last run."""
        self.update(trade_ids)

    def __contains__(self, trade_id: object) -> bool:
        if not isinstance(trade_id, int) or trade_id > self.high:
            return False
        if trade_id in self.loose:
            return True
        index = bisect_right(self._firsts, trade_id) - 1
        if index < 0:
            return False
        count = self._counts[index]  # before the step: see the module docstring
        offset = trade_id - self._firsts[index]
        step = self._steps[index]
        return offset % step == 0 and offset // step < count

    def add(self, trade_id: int) -> None:
        """Remember one id (ids already seen are ignored, as by a set)."""
        high = self.high
        if trade_id <= high:
            if trade_id not in self:
                self._add_below_high(trade_id)
            return
        if trade_id < 0:
            raise ValueError(f"trade id {trade_id} must be >= 0")
        last = len(self._counts) - 1
        if last >= 0 and self._counts[last] == 1:
            self._steps[last] = trade_id - high
            self._counts[last] = 2
        elif last >= 0 and trade_id - high == self._steps[last]:
            self._counts[last] += 1
        else:
            self._append_run(trade_id, 1, 1)
        self.high = trade_id

    def _add_below_high(self, trade_id: int) -> None:
        """Extend the run just before the id when the id is its next one, else keep it loose."""
        if trade_id < 0:
            raise ValueError(f"trade id {trade_id} must be >= 0")
        before = bisect_right(self._firsts, trade_id) - 1
        if before >= 0:
            count, step = self._counts[before], self._steps[before]
            last = self._firsts[before] + step * (count - 1)
            if trade_id > last and (count == 1 or trade_id - last == step):
                self._steps[before] = trade_id - last if count == 1 else step
                self._counts[before] = count + 1
                return
        self.loose.add(trade_id)

    def _append_run(self, first: int, step: int, count: int) -> None:
        # `firsts` last: a lookup finds a run by its first id only once all of it is there.
        self._counts.append(count)
        self._steps.append(step)
        self._firsts.append(first)

    def update(self, trade_ids: Iterable[int]) -> None:
        """Remember every id; an in-order batch with one step is one run, added in one go."""
        ids = trade_ids if isinstance(trade_ids, Sequence) else list(trade_ids)
        if len(ids) > 2 and self._add_progression(ids):
            return
        for trade_id in ids:
            self.add(trade_id)

    def _add_progression(self, ids: Sequence[int]) -> bool:
        first, size = ids[0], len(ids)
        step = ids[1] - first
        if first <= self.high or step <= 0:
            return False
        expected = range(first, first + step * size, step)
        if isinstance(ids, list) and ids != list(expected):
            return False
        if not isinstance(ids, list) and tuple(ids) != tuple(expected):
            return False
        self.add(first)  # extends or starts the last run, as one add would
        last = len(self._counts) - 1
        if self._counts[last] == 1:
            self._steps[last] = step
        if self._steps[last] == step:
            self._counts[last] += size - 1
        else:
            self._append_run(ids[1], step, size - 1)
        self.high = expected[-1]  # last: a lookup above `high` answers at once
        return True

    def isdisjoint(self, trade_ids: Iterable[int]) -> bool:
        """Say whether none of the ids was seen (at once when all are above `high`)."""
        ids = trade_ids if isinstance(trade_ids, Sequence | set | frozenset) else list(trade_ids)
        if not ids or min(ids) > self.high:
            return True
        return not any(trade_id in self for trade_id in ids)

    def __len__(self) -> int:
        return sum(self._counts) + len(self.loose)

    def __bool__(self) -> bool:
        return self.high != NOTHING_SEEN

    def __iter__(self) -> Iterator[int]:
        """Yield the ids in increasing order."""
        runs = (
            range(first, first + step * count, step)
            for first, step, count in zip(self._firsts, self._steps, self._counts, strict=True)
        )
        return merge((trade_id for run in runs for trade_id in run), sorted(self.loose))

    @property
    def runs(self) -> int:
        """How many runs hold the ids that are not loose (the memory grows with them)."""
        return len(self._counts)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TradeIdSet):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        if isinstance(other, set | frozenset):
            return len(self) == len(other) and all(trade_id in self for trade_id in other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TradeIdSet({len(self)} ids in {self.runs} runs + {len(self.loose)} loose)"
