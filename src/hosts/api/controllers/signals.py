"""Signals: record what the analytics host decided (auto-executed when enabled); read them back."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_503_SERVICE_UNAVAILABLE

from hosts.api.controllers.dashboard import service_of
from hosts.api.errors import ApiError, domain_errors
from hosts.api.guards import host_of, principal_of
from hosts.api.history import SignalFilter, epoch_ms, signals_page
from hosts.api.schemas import (
    SIGNAL_SYMBOL_PATTERN,
    ProgressIn,
    ProgressMarkIn,
    ProgressOut,
    SignalBatchIn,
    SignalBatchOut,
    SignalBatchResultOut,
    SignalIn,
    SignalPageOut,
    SignalRecordedOut,
    SignalsOut,
)
from hosts.api.store_health import STORE_ERRORS, request_store_health
from hosts.api.views import error_responses, order_out, signal_out
from tradingcore.application.feed_cursor import CursorResult
from tradingcore.application.signal_desk import SignalBatch, SignalReceived
from tradingcore.domain.signal import Direction
from tradingcore.domain.timestamps import TIMESTAMP_IMPLAUSIBLE, implausible_time
from tradingcore.domain.values import Symbol

SIGNAL_RESPONSES = {
    **error_responses(413, 422),
    200: ResponseSpec(
        SignalRecordedOut,
        generate_examples=False,
        description="Already recorded: the original signal",
    ),
}


class SignalController(Controller):
    path = "/api/v1/signals"
    tags = ("signals",)

    @post(
        "",
        operation_id="recordSignal",
        summary="Record a signal (idempotent on its deterministic id)",
        status_code=HTTP_201_CREATED,
        responses=SIGNAL_RESPONSES,
        sync_to_thread=True,
    )
    def record(
        self, request: Request[Any, Any, Any], data: JSONBody[SignalIn]
    ) -> Response[SignalRecordedOut]:
        """Record a signal; with auto-execution on, it is traded through the risk checks."""
        body = take(request, data)
        return Response(body, status_code=HTTP_201_CREATED if body.created else HTTP_200_OK)

    @post(
        "/batch",
        operation_id="recordSignals",
        summary="Record several signals in one request, in their order",
        status_code=HTTP_200_OK,
        responses=error_responses(413, 422),
        sync_to_thread=True,
    )
    def record_batch(
        self, request: Request[Any, Any, Any], data: JSONBody[SignalBatchIn]
    ) -> SignalBatchOut:
        """Each signal is taken as `POST /api/v1/signals` would take it, in order, and answered
        with the status that request would have had. The analytics host sends what queued up
        while its previous request was answered, so a burst of signals costs one request (and
        one slot of the per-key rate limit). With auto-execution, the signals share one wait of
        `signal_wait` for their ticks to reach this host."""
        host = host_of(request)
        deadline = time.monotonic() + host.config.signal_wait
        batch = SignalBatch()
        taken: list[CursorResult | ApiError] = []
        timed: list[tuple[float, CursorResult]] = []
        failure: Exception | None = None
        try:
            for signal in data.signals:
                try:
                    begun = time.perf_counter()
                    result = receive(request, signal, deadline=deadline, batch=batch)
                    taken.append(result)
                    timed.append((begun, result))
                except ApiError as error:
                    taken.append(error)
                except STORE_ERRORS as error:
                    failure = error
                    break
                failure = batch.failed()
                if failure is not None:
                    break  # what follows would stand on a write that failed
        finally:
            # One transaction for the batch's signals, orders and fills (whatever the
            # waits did not commit yet); nothing is answered before it is durable.
            host.finish_batch(batch, timed)
        results: list[SignalBatchResultOut] = []
        for item in taken:
            if isinstance(item, ApiError):
                results.append(refused(item))
                continue
            try:
                body = recorded_out(host.settled(batch, item))
            except STORE_ERRORS as error:
                failure = failure or error
                results.append(not_stored(error))
                continue
            status = HTTP_201_CREATED if body.created else HTTP_200_OK
            results.append(SignalBatchResultOut(status=status, recorded=body))
        if failure is not None:
            request_store_health(request).write_failed(failure)
            if not any(result.recorded for result in results):
                raise failure  # nothing was stored: the whole request is answered 503
            results += [not_stored(failure) for _ in data.signals[len(results) :]]
        elif data.progress:
            # Only once every signal before them is final: a signal sent again (503) must
            # not find the tape applied past its tick.
            try:
                advance(request, data.progress)
            except STORE_ERRORS as error:
                request_store_health(request).write_failed(error)
        return SignalBatchOut(results=results)

    @post(
        "/progress",
        operation_id="recordSignalProgress",
        summary="The signal source has decided every tick up to these and sent their signals",
        status_code=HTTP_200_OK,
        responses=error_responses(413, 422),
        sync_to_thread=True,
        opt={"rate_bucket": "progress"},
    )
    def progress(self, request: Request[Any, Any, Any], data: JSONBody[ProgressIn]) -> ProgressOut:
        """With auto-execution on feed time, the trades this host holds for a signal at an
        earlier tick are applied (their fills) as soon as no such signal can come: the
        analytics host marks how far it has decided, after the signals of those ticks. Without
        marks they wait for the next signal or `feed_hold`. Counted in a rate-limit bucket of
        its own; a mark behind an earlier one changes nothing."""
        return ProgressOut(applied=advance(request, data.marks))

    @get(
        "",
        operation_id="listSignals",
        summary="Stored signals, newest first, filtered and paged",
        responses=error_responses(),
        sync_to_thread=True,
    )
    def list_signals(
        self,
        request: Request[Any, Any, Any],
        symbol: Annotated[str | None, Parameter(pattern=SIGNAL_SYMBOL_PATTERN)] = None,
        direction: Annotated[
            Literal["BUY", "SELL", "HOLD"] | None, Parameter(description="BUY, SELL or HOLD")
        ] = None,
        since: Annotated[
            str | None,
            Parameter(
                schema_extra={"format": "date-time"},
                max_length=64,
                description="tick at or after this ISO 8601 time (UTC if no offset)",
            ),
        ] = None,
        until: Annotated[
            str | None,
            Parameter(
                schema_extra={"format": "date-time"},
                max_length=64,
                description="tick before this ISO 8601 time (UTC if no offset)",
            ),
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        before: Annotated[
            int | None, Parameter(ge=1, description="the `next_before` of the previous page")
        ] = None,
    ) -> SignalPageOut:
        """List the signals every host stored (the newest from memory, older from the store)."""
        wanted = SignalFilter(symbol, direction, epoch_ms(since, "since"), epoch_ms(until, "until"))
        signals, cursor = signals_page(service_of(request).activity, wanted, limit, before)
        return SignalPageOut(signals=signals, next_before=cursor)

    @get(
        "/latest",
        operation_id="latestSignals",
        summary="The most recent signals, newest first",
        responses=error_responses(),
        sync_to_thread=False,
    )
    def latest(
        self,
        request: Request[Any, Any, Any],
        limit: Annotated[int, Parameter(ge=1, le=500)] = 20,
        symbol: Annotated[str | None, Parameter(pattern=SIGNAL_SYMBOL_PATTERN)] = None,
    ) -> SignalsOut:
        """Return up to `limit` recent signals, optionally of one symbol."""
        with host_of(request).orders.lock:
            chosen = host_of(request).signals.latest(limit, Symbol(symbol) if symbol else None)
        return SignalsOut(signals=[signal_out(signal) for signal in chosen])


def take(request: Request[Any, Any, Any], data: SignalIn) -> SignalRecordedOut:
    """Record one signal (and trade it, with auto-execution); ApiError when refused."""
    return recorded_out(receive(request, data))


def receive(
    request: Request[Any, Any, Any],
    data: SignalIn,
    *,
    deadline: float | None = None,
    batch: SignalBatch | None = None,
) -> CursorResult:
    """Take one signal (in a `batch`: final once the batch is finished); ApiError when
    refused."""
    principal = principal_of(request)
    # Refused before the desk sees it: a signal stamped far ahead of this host's clock is
    # corrupt or forged, and must not move anything that follows signal time.
    refuse_implausible(data.tick_timestamp_ms, "tick_timestamp_ms")
    with domain_errors(InvalidSignal="signal_id"):
        return host_of(request).take_signal(
            SignalReceived(
                symbol=Symbol(data.symbol),
                direction=Direction(data.direction),
                confidence=data.confidence,
                features=data.features,
                model_version=data.model_version,
                tick_trade_id=data.tick_trade_id,
                tick_timestamp_ms=data.tick_timestamp_ms,
                price=data.price,
                signal_id=uuid.UUID(data.signal_id) if data.signal_id else None,
            ),
            actor=principal.name,
            account=principal.account,
            deadline=deadline,
            batch=batch,
        )


def refuse_implausible(tick_timestamp_ms: int, key: str) -> None:
    """ApiError (422, naming `key`) for a tick stamped far ahead of this host's clock."""
    implausible = implausible_time(tick_timestamp_ms, time.time_ns() // 1_000_000)
    if implausible is not None:
        raise ApiError(422, f"{TIMESTAMP_IMPLAUSIBLE}: {implausible}", key)


def advance(request: Request[Any, Any, Any], marks: list[ProgressMarkIn]) -> int:
    """Take progress marks in order; return the held trades they applied. ApiError (422) for
    a mark stamped far ahead of this host's clock: it would let every held trade go."""
    for index, mark in enumerate(marks):
        refuse_implausible(mark.tick_timestamp_ms, f"marks.{index}.tick_timestamp_ms")
    return host_of(request).advance(
        [(Symbol(mark.symbol), (mark.tick_timestamp_ms, mark.tick_trade_id)) for mark in marks]
    )


def recorded_out(taken: CursorResult) -> SignalRecordedOut:
    result = taken.result
    return SignalRecordedOut(
        signal=signal_out(result.signal),
        created=result.created,
        order=order_out(result.execution.order) if result.execution else None,
        skipped=taken.skipped or result.skipped or None,
    )


def refused(error: ApiError) -> SignalBatchResultOut:
    key = error.extra[0]["key"] if isinstance(error.extra, list) else None
    return SignalBatchResultOut(
        status=error.status_code, recorded=None, error=error.detail, key=key
    )


def not_stored(error: Exception) -> SignalBatchResultOut:
    detail = (
        f"the event store failed ({type(error).__name__}: {error}); this signal was not "
        "stored, try again later"
    )
    return SignalBatchResultOut(status=HTTP_503_SERVICE_UNAVAILABLE, recorded=None, error=detail)
