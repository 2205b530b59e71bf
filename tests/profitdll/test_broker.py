"""ProfitDLLBroker against the fake: send, cancel, change, and order callbacks to the listener."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.profitdll.broker import FILL_ID_SPACING, ProfitDLLBroker, RoutingAccount
from adapters.profitdll.errors import ProfitDLLError
from adapters.profitdll.fakebuild import FILL_MARKET_ORDERS, REJECT_ORDERS, FakeProfitDLL
from adapters.profitdll.feed import ProfitDLLFeed
from tests.profitdll.conftest import CREDENTIALS, RecordingBrokerListener, RecordingListener
from tradingcore.domain.values import MARKET_PRICE_MARKER, Side, Symbol
from tradingcore.ports.broker import BrokerOrder

ACCOUNT = RoutingAccount(broker_id=308, account_id="12345", routing_password="signature")
WIN = Symbol("WINZ25")


@pytest.fixture
def broker_listener() -> RecordingBrokerListener:
    return RecordingBrokerListener()


@pytest.fixture
def broker(
    fake: FakeProfitDLL, fake_library_path: Path, broker_listener: RecordingBrokerListener
) -> Iterator[ProfitDLLBroker]:
    created = ProfitDLLBroker(fake_library_path, CREDENTIALS, ACCOUNT)
    created.connect(broker_listener)
    created.session.wait_until_connected(5)
    yield created
    created.disconnect()


def order(
    price: Decimal = Decimal(127850), quantity: int = 2, side: Side = Side.BUY
) -> BrokerOrder:
    return BrokerOrder(uuid.uuid5(uuid.NAMESPACE_OID, f"{price}{quantity}{side}{uuid.uuid4()}"),
                       "12345", WIN, side, quantity, price)  # fmt: skip


def test_connect_with_routing_session_is_connected(broker: ProfitDLLBroker) -> None:
    assert broker.is_connected
    assert broker.session.state.routing


def test_send_limit_order_is_accepted_with_the_local_order_id(
    broker: ProfitDLLBroker, broker_listener: RecordingBrokerListener
) -> None:
    sent = order()

    broker.send(sent)

    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted"])
    assert broker_listener.events[0] == (
        "accepted",
        sent.order_id,
        str(broker.local_order_id(sent.order_id)),
    )


def test_fills_arrive_with_trade_id_price_and_quantity_once_each(
    broker: ProfitDLLBroker, broker_listener: RecordingBrokerListener, fake: FakeProfitDLL
) -> None:
    sent = order(quantity=3)
    broker.send(sent)
    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted"])
    local_id = broker.local_order_id(sent.order_id)

    fake.fill_order(local_id, 1, 127850.0)
    fake.fill_order(local_id, 2, 127855.0)
    fake.inject_order_update(local_id, 2, 3, (127850.0 + 2 * 127855.0) / 3)  # a redelivery

    assert broker_listener.wait_for(lambda: len(broker_listener.events) == 3)
    assert broker_listener.events[1:] == [
        ("filled", sent.order_id, local_id * FILL_ID_SPACING + 1, Decimal(127850), 1),
        ("filled", sent.order_id, local_id * FILL_ID_SPACING + 3, Decimal(127855), 2),
    ]
    assert broker.session.drain()
    assert len(broker_listener.events) == 3


def test_one_report_at_an_off_grid_average_is_booked_as_two_fills_on_the_grid(
    broker: ProfitDLLBroker, broker_listener: RecordingBrokerListener, fake: FakeProfitDLL
) -> None:
    sent = order(quantity=3)
    broker.send(sent)
    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted"])
    local_id = broker.local_order_id(sent.order_id)

    # 1 @ 127850 and 2 @ 127855 executed, reported at once: average 127853.33...
    fake.inject_order_update(local_id, 2, 3, (127850.0 + 2 * 127855.0) / 3)

    assert broker_listener.wait_for(lambda: len(broker_listener.events) == 3)
    assert broker_listener.events[1:] == [
        ("filled", sent.order_id, local_id * FILL_ID_SPACING + 1, Decimal(127850), 1),
        ("filled", sent.order_id, local_id * FILL_ID_SPACING + 3, Decimal(127855), 2),
    ]


def test_send_market_order_goes_out_with_price_minus_one_and_fills(
    broker: ProfitDLLBroker, broker_listener: RecordingBrokerListener, fake: FakeProfitDLL
) -> None:
    sent = order(price=MARKET_PRICE_MARKER, side=Side.SELL)

    broker.send(sent)  # the fake refuses a market order whose price is not -1
    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted"])
    fake.fill_order(broker.local_order_id(sent.order_id), 2, 127840.0)

    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted", "filled"])
    assert broker_listener.events[1][3:] == (Decimal(127840), 2)


def test_cancel_of_live_order_reports_canceled(
    broker: ProfitDLLBroker, broker_listener: RecordingBrokerListener
) -> None:
    sent = order()
    broker.send(sent)
    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted"])

    broker.cancel(sent.order_id)

    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted", "canceled"])
    assert broker_listener.events[1] == ("canceled", sent.order_id, "Canceled by client")


def test_change_then_fill_uses_the_new_quantity(
    broker: ProfitDLLBroker, broker_listener: RecordingBrokerListener, fake: FakeProfitDLL
) -> None:
    sent = order(quantity=1)
    broker.send(sent)
    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted"])
    local_id = broker.local_order_id(sent.order_id)

    broker.change(sent.order_id, Decimal(127845), 4)
    fake.fill_order(local_id, 4, 127845.0)  # only possible once the quantity really is 4

    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted", "filled"])
    assert broker_listener.events[1][3:] == (Decimal(127845), 4)


def test_cancel_of_filled_order_raises_named_error(
    broker: ProfitDLLBroker, broker_listener: RecordingBrokerListener, fake: FakeProfitDLL
) -> None:
    sent = order(quantity=1)
    broker.send(sent)
    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted"])
    fake.fill_order(broker.local_order_id(sent.order_id), 1, 127850.0)
    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted", "filled"])

    with pytest.raises(ProfitDLLError, match="SendCancelOrderV2 failed: NL_INVALID_ARGS"):
        broker.cancel(sent.order_id)


def test_cancel_of_unknown_order_raises_naming_it(broker: ProfitDLLBroker) -> None:
    unknown = uuid.uuid5(uuid.NAMESPACE_OID, "never sent")

    with pytest.raises(ProfitDLLError, match=str(unknown)):
        broker.cancel(unknown)


def test_send_with_venue_rejection_reports_rejected_once_with_reason(
    broker: ProfitDLLBroker, broker_listener: RecordingBrokerListener, fake: FakeProfitDLL
) -> None:
    fake.set_behaviour(REJECT_ORDERS)
    sent = order()

    broker.send(sent)

    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["rejected"])
    assert broker_listener.events[0] == (
        "rejected",
        sent.order_id,
        "RejectedBroker",
        "RejectedBroker",
    )
    assert broker.session.drain()
    assert broker_listener.kinds() == ["rejected"]


def test_send_refused_by_the_dll_reports_rejected_with_the_code_name(
    broker: ProfitDLLBroker, broker_listener: RecordingBrokerListener
) -> None:
    sent = order(quantity=0)  # the DLL refuses a zero quantity synchronously

    broker.send(sent)

    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["rejected"])
    assert broker_listener.events[0][2] == "NL_INVALID_ARGS"
    assert "SendOrder failed" in broker_listener.events[0][3]


def test_broker_sharing_the_feed_session_routes_and_streams_together(
    fake: FakeProfitDLL, fake_library_path: Path, broker_listener: RecordingBrokerListener
) -> None:
    feed = ProfitDLLFeed(fake_library_path, CREDENTIALS, routing=True)
    broker = ProfitDLLBroker(fake_library_path, CREDENTIALS, ACCOUNT, session=feed.session)
    listener = RecordingListener()
    try:
        feed.start(listener)
        broker.connect(broker_listener)
        feed.subscribe(WIN)
        feed.session.wait_until_connected(5)
        assert feed.drain()
        fake.start_stream("WINZ25", "F", 100)
        broker.send(order())

        assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted"])
        assert listener.wait_for(lambda: len(listener.trades) == 100)
    finally:
        feed.stop()


def test_send_before_connect_raises_naming_connect(
    fake: FakeProfitDLL, fake_library_path: Path
) -> None:
    broker = ProfitDLLBroker(fake_library_path, CREDENTIALS, ACCOUNT)

    with pytest.raises(ProfitDLLError, match=r"call connect\(\) first"):
        broker.send(order())
    assert not broker.is_connected


def test_send_after_connection_loss_is_rejected_as_not_logged_in(
    broker: ProfitDLLBroker, broker_listener: RecordingBrokerListener, fake: FakeProfitDLL
) -> None:
    fake.drop_connection()
    sent = order()

    broker.send(sent)

    assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["rejected"])
    assert broker_listener.events[0][2] == "NL_NO_LOGIN"
    assert fake.wait_idle(5) and broker.session.drain()
    assert not broker.is_connected


def test_market_order_with_fill_behaviour_fills_at_the_last_price(
    fake: FakeProfitDLL, fake_library_path: Path, broker_listener: RecordingBrokerListener
) -> None:
    feed = ProfitDLLFeed(fake_library_path, CREDENTIALS, routing=True)
    broker = ProfitDLLBroker(fake_library_path, CREDENTIALS, ACCOUNT, session=feed.session)
    try:
        feed.start(RecordingListener())
        broker.connect(broker_listener)
        feed.subscribe(WIN)
        feed.session.wait_until_connected(5)
        assert feed.drain()
        fake.start_stream("WINZ25", "F", 10, start_price=127_900.0)
        assert fake.wait_idle(5)
        fake.set_behaviour(FILL_MARKET_ORDERS)
        sent = order(price=MARKET_PRICE_MARKER, quantity=1)

        broker.send(sent)

        assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted", "filled"])
        assert broker_listener.events[1][3] % 5 == 0 and broker_listener.events[1][4] == 1
    finally:
        feed.stop()


def test_construct_without_arguments_reads_the_environment(
    fake: FakeProfitDLL, fake_library_path: Path, broker_listener: RecordingBrokerListener
) -> None:
    environment = {
        "PROFITDLL_DLL": str(fake_library_path),
        "PROFITDLL_KEY": "key",
        "PROFITDLL_USER": "user",
        "PROFITDLL_PASSWORD": "password",
        "PROFITDLL_BROKER_ID": "308",
        "PROFITDLL_ACCOUNT": "12345",
        "PROFITDLL_ROUTING_PASSWORD": "signature",
    }
    broker = ProfitDLLBroker(environment=environment)
    try:
        broker.connect(broker_listener)
        broker.session.wait_until_connected(5)
        broker.send(order())

        assert broker_listener.wait_for(lambda: broker_listener.kinds() == ["accepted"])
        assert broker.account.broker_id == 308 and "signature" not in repr(broker.account)
    finally:
        broker.disconnect()


def test_construct_with_missing_settings_names_the_variables() -> None:
    with pytest.raises(ProfitDLLError, match=r"PROFITDLL_DLL, PROFITDLL_KEY.*PROFITDLL_ACCOUNT"):
        ProfitDLLBroker(environment={"PROFITDLL_BROKER_ID": "308"})
    with pytest.raises(ProfitDLLError, match="PROFITDLL_BROKER_ID must be a whole number"):
        ProfitDLLBroker(
            "lib.so",
            CREDENTIALS,
            environment={"PROFITDLL_BROKER_ID": "x", "PROFITDLL_ACCOUNT": "1",
                         "PROFITDLL_ROUTING_PASSWORD": "s"},
        )  # fmt: skip
