"""GET /api/v1/orders and GET /api/v1/signals: lists scoped by key, filtered, paged, newest first.

In process against a real SQLite store; nothing polls the read model by hand: a list answers
what the requests before it stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient

from hosts.api.app import create_app
from hosts.api.host import ApiHost
from tests.api.conftest import ALICE, BOB, ROOT, Tape, headers
from tests.api.test_api import SIGNAL
from tests.api.test_dashboard_api import execute


def listed(client: TestClient[Any], path: str, key: str, **params: Any) -> Any:
    response = client.get(path, headers=headers(key), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def orders(client: TestClient[Any], key: str, **params: Any) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = listed(client, "/api/v1/orders", key, **params)["orders"]
    return body


def three_orders(client: TestClient[Any], tape: Tape) -> list[dict[str, Any]]:
    """alice buys 2 (filled), bob sells 2 (filled), alice asks 500 (denied): in that order."""
    tape.print(127_850)
    sent = [
        execute(client, ALICE, client_order_id="a-1"),
        execute(client, BOB, side="SELL", client_order_id="b-1"),
    ]
    tape.print(127_855)  # the market orders fill against it
    return [*sent, execute(client, ALICE, quantity=500, client_order_id="a-2")]


def test_a_trader_lists_their_own_orders_newest_first_as_a_lookup_shows_them(
    client: TestClient[Any], host: ApiHost, tape: Tape
) -> None:
    sent = three_orders(client, tape)

    mine = orders(client, ALICE)

    assert [order["client_order_id"] for order in mine] == ["a-2", "a-1"]
    for order in mine:
        looked_up = client.get(f"/api/v1/orders/{order['order_id']}", headers=headers(ALICE))
        assert order == looked_up.json()
    assert mine[1]["status"] == "FILLED" and mine[1]["fees"] != "0.00"
    assert mine[0]["status"] == "DENIED" and mine[0]["reason_code"]
    assert {order["order_id"] for order in mine} == {sent[0]["order_id"], sent[2]["order_id"]}


def test_an_admin_lists_every_account_or_one_and_a_trader_no_other(
    client: TestClient[Any], host: ApiHost, tape: Tape
) -> None:
    three_orders(client, tape)

    everything = orders(client, ROOT)
    only_bob = orders(client, ROOT, account="bob")
    refused = client.get("/api/v1/orders", headers=headers(BOB), params={"account": "alice"})

    assert [order["client_order_id"] for order in everything] == ["a-2", "b-1", "a-1"]
    assert [order["account"] for order in only_bob] == ["bob"]
    assert refused.status_code == 403
    assert orders(client, BOB, account="bob") == only_bob


def test_orders_filter_by_status_symbol_side_and_time(
    client: TestClient[Any], host: ApiHost, tape: Tape
) -> None:
    three_orders(client, tape)
    host.app.clock.advance(timedelta(seconds=5))  # type: ignore[attr-defined]
    tape.print(127_900)
    resting = execute(client, ALICE, price=127_000, client_order_id="a-3")  # a limit far below
    submitted_at = resting["submitted_at"]

    assert [o["client_order_id"] for o in orders(client, ALICE, status="OPEN")] == ["a-3"]
    assert [o["client_order_id"] for o in orders(client, ALICE, status="DENIED")] == ["a-2"]
    assert [o["client_order_id"] for o in orders(client, ROOT, side="SELL")] == ["b-1"]
    assert orders(client, ROOT, symbol="WDOF26") == []
    assert [o["client_order_id"] for o in orders(client, ALICE, since=submitted_at)] == ["a-3"]
    assert "a-3" not in {o["client_order_id"] for o in orders(client, ALICE, until=submitted_at)}
    bad = client.get("/api/v1/orders", headers=headers(ALICE), params={"status": "DONE"})
    assert bad.status_code == 400


def test_a_time_filter_takes_iso_times_only(client: TestClient[Any]) -> None:
    def status(path: str, **params: str) -> tuple[int, str]:
        answer = client.get(path, headers=headers(ALICE), params=params)
        return answer.status_code, answer.text

    assert status("/api/v1/orders", since="2025-12-01")[0] == 200
    assert status("/api/v1/signals", until="2025-12-01T12:00:00-03:00")[0] == 200
    number, why = status("/api/v1/orders", until="0.5")  # once taken as seconds since 1970
    assert number == 400 and "until" in why
    assert status("/api/v1/signals", since="2025-13-45T00:00:00Z")[0] == 422


def test_pages_of_one_follow_next_before_to_the_full_list(
    client: TestClient[Any], host: ApiHost, tape: Tape
) -> None:
    three_orders(client, tape)
    whole = listed(client, "/api/v1/orders", ROOT)

    pages, before = [], None
    while True:
        params = {"limit": 1, **({"before": before} if before else {})}
        body = listed(client, "/api/v1/orders", ROOT, **params)
        pages.extend(body["orders"])
        before = body["next_before"]
        if before is None:
            break

    assert pages == whole["orders"] and len(pages) == 3
    assert whole["next_before"] is None


def test_signals_list_newest_first_filtered_and_paged(client: TestClient[Any]) -> None:
    posted = [
        client.post(
            "/api/v1/signals",
            json={**SIGNAL, "direction": direction, "tick_trade_id": tick,
                  "tick_timestamp_ms": SIGNAL["tick_timestamp_ms"] + tick},
            headers=headers(ALICE),
        ).json()["signal"]
        for tick, direction in enumerate(("BUY", "HOLD", "SELL", "HOLD"), start=1)
    ]  # fmt: skip

    every = listed(client, "/api/v1/signals", BOB)
    holds = listed(client, "/api/v1/signals", BOB, direction="HOLD")["signals"]
    first_page = listed(client, "/api/v1/signals", BOB, limit=3)
    rest = listed(client, "/api/v1/signals", BOB, before=first_page["next_before"])
    since = listed(client, "/api/v1/signals", BOB, since="2025-12-01T15:00:00.003Z")["signals"]

    assert every == {"signals": posted[::-1], "next_before": None}
    assert [signal["tick_trade_id"] for signal in holds] == [4, 2]
    assert first_page["signals"] + rest["signals"] == posted[::-1]
    assert [signal["tick_trade_id"] for signal in since] == [4, 3]
    assert client.get("/api/v1/signals").status_code == 401


def test_lists_past_the_rows_kept_in_memory_go_on_in_the_store(
    make_host: Callable[..., ApiHost],
) -> None:
    """`[api] history` bounds the rows held in memory (the soak's API host grew with 20,000);
    the lists still show every stored order and signal, filtered and paged alike."""
    host = make_host(history=1)
    app = create_app(host)
    with TestClient(app=app) as client:
        sent = three_orders(client, Tape(host))
        posted = [
            client.post(
                "/api/v1/signals",
                json={**SIGNAL, "direction": direction, "tick_trade_id": tick,
                      "tick_timestamp_ms": SIGNAL["tick_timestamp_ms"] + tick},
                headers=headers(ALICE),
            ).json()["signal"]
            for tick, direction in enumerate(("BUY", "HOLD", "SELL", "HOLD"), start=1)
        ]  # fmt: skip

        everything = listed(client, "/api/v1/orders", ROOT)
        filled = orders(client, ROOT, status="FILLED")
        alice = orders(client, ALICE)
        pages, before = [], None
        while True:
            params = {"limit": 1, **({"before": before} if before else {})}
            body = listed(client, "/api/v1/orders", ROOT, **params)
            pages.extend(body["orders"])
            before = body["next_before"]
            if before is None:
                break
        signals = listed(client, "/api/v1/signals", BOB)
        holds = listed(client, "/api/v1/signals", BOB, direction="HOLD")["signals"]
        first_page = listed(client, "/api/v1/signals", BOB, limit=3)
        rest = listed(client, "/api/v1/signals", BOB, before=first_page["next_before"])
        looked_up = [
            client.get(f"/api/v1/orders/{order['order_id']}", headers=headers(owner)).json()
            for order, owner in zip(everything["orders"], (ALICE, BOB, ALICE), strict=True)
        ]
        kept = app.state["dashboard"].activity.read(
            lambda model: (len(model.order_history), model.order_floor)
        )

    assert kept[0] == 1 and kept[1] > 0  # the two older orders are only in the store
    assert [order["client_order_id"] for order in everything["orders"]] == ["a-2", "b-1", "a-1"]
    assert everything["orders"] == looked_up  # folded from the store as a lookup shows them
    assert everything["next_before"] is None and pages == everything["orders"]
    assert [order["client_order_id"] for order in filled] == ["b-1", "a-1"]
    assert [order["order_id"] for order in alice] == [sent[2]["order_id"], sent[0]["order_id"]]
    assert signals == {"signals": posted[::-1], "next_before": None}
    assert [signal["tick_trade_id"] for signal in holds] == [4, 2]
    assert first_page["signals"] + rest["signals"] == posted[::-1]
