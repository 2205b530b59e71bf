"""Flag constants of ProfitDLL callbacks and arrays (reference section 4.4)."""

from __future__ import annotations

from typing import Final

TC_IS_EDIT: Final = 1
TC_LAST_PACKET: Final = 2
OB_LAST_PACKET: Final = 1
OB_FIRST_PACKET: Final = 2

LOGIN: Final = 0
ROUTING: Final = 1
MARKET_DATA: Final = 2
ACTIVATION: Final = 3
"""Connection state types of TStateCallback (reference section 4.1)."""

STATE_NAMES: Final[dict[int, tuple[str, dict[int, str]]]] = {
    LOGIN: (
        "login",
        {
            0: "LOGIN_CONNECTED",
            1: "LOGIN_INVALID (invalid user)",
            2: "LOGIN_INVALID_PASS (invalid password)",
            3: "LOGIN_BLOCKED_PASS (password blocked)",
            4: "LOGIN_EXPIRED_PASS (password expired)",
            200: "LOGIN_UNKNOWN_ERR (unknown login error)",
        },
    ),
    ROUTING: (
        "routing",
        {
            0: "ROTEAMENTO_DISCONNECTED",
            1: "ROTEAMENTO_CONNECTING",
            2: "ROTEAMENTO_CONNECTED",
            3: "ROTEAMENTO_BROKER_DISCONNECTED",
            4: "ROTEAMENTO_BROKER_CONNECTING",
            5: "ROTEAMENTO_BROKER_CONNECTED",
        },
    ),
    MARKET_DATA: (
        "market data",
        {
            0: "MARKET_DISCONNECTED",
            1: "MARKET_CONNECTING",
            2: "MARKET_WAITING",
            3: "MARKET_NOT_LOGGED",
            4: "MARKET_CONNECTED",
            5: "MARKET_PERFORMANCE_WARNING",
            6: "MARKET_PARTIAL_CONNECTED (callbacks not consumed: data may be delayed)",
        },
    ),
    ACTIVATION: (
        "activation",
        {0: "CONNECTION_ACTIVATE_VALID", 1: "CONNECTION_ACTIVATE_INVALID (licence refused)"},
    ),
}

ORDER_STATUS_NAMES: Final[dict[int, str]] = {
    0: "New",
    1: "PartiallyFilled",
    2: "Filled",
    3: "DoneForDay",
    4: "Canceled",
    5: "Replaced",
    6: "PendingCancel",
    7: "Stopped",
    8: "Rejected",
    9: "Suspended",
    10: "PendingNew",
    11: "Calculated",
    12: "Expired",
    13: "AcceptedForBidding",
    14: "PendingReplace",
    15: "PartiallyFilledCanceled",
    16: "Received",
    17: "PartiallyFilledExpired",
    18: "PartiallyFilledRejected",
    200: "Unknown",
    201: "HadesCreated",
    202: "BrokerSent",
    203: "ClientCreated",
    204: "OrderNotCreated",
    205: "CanceledByAdmin",
    206: "DelayFixGateway",
    207: "ScheduledOrder",
}
"""TConnectorOrderStatus (reference section 4.3)."""

ORDER_TYPE_MARKET: Final = 1
ORDER_TYPE_LIMIT: Final = 2
ORDER_TYPE_STOP_LIMIT: Final = 4
ORDER_SIDE_BUY: Final = 1
ORDER_SIDE_SELL: Final = 2
BOOK_SIDE_BUY: Final = 0
BOOK_SIDE_SELL: Final = 1
