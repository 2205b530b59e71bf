"""Named queries users ask for, in DuckDB SQL over the projection views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class NamedQuery:
    name: str
    description: str
    sql: str
    """SQL text; `{horizon}` is replaced by the hit-rate horizon in ticks."""


VWAP: Final = NamedQuery(
    "vwap",
    "volume-weighted average price per symbol and session date (cancelled and cross excluded)",
    """
SELECT symbol, date,
       sum(price * volume) / sum(volume) AS vwap,
       sum(volume)::BIGINT AS volume,
       count(*) AS trades
FROM trades
WHERE NOT cancelled AND NOT "cross"
GROUP BY symbol, date
ORDER BY symbol, date
""",
)

BARS_1M: Final = NamedQuery(
    "bars_1m",
    "1-minute OHLCV bars per symbol (open/close by tape sequence; cancelled and cross excluded)",
    """
SELECT symbol, date,
       time_bucket(INTERVAL 1 minute, timestamp) AS minute,
       arg_min(price, sequence) AS open,
       max(price) AS high,
       min(price) AS low,
       arg_max(price, sequence) AS close,
       sum(volume)::BIGINT AS volume,
       sum(price * volume) / sum(volume) AS vwap,
       count(*) AS trades
FROM trades
WHERE NOT cancelled AND NOT "cross"
GROUP BY ALL
ORDER BY symbol, minute
""",
)

DAILY_PNL: Final = NamedQuery(
    "daily_pnl",
    "P&L per account, symbol and date: gross realized, fees and net realized from position "
    "events (exact cents), unrealized at the day's last trade",
    """
WITH day_end AS (
    SELECT account, symbol, date,
           sum(gross_realized_pnl) AS gross_realized_pnl,
           sum(fees) AS fees,
           sum(net_realized_pnl) AS realized_pnl,
           count(*) AS position_events,
           arg_max(net_quantity, notification_id) AS net_quantity,
           arg_max(average_price, notification_id) AS average_price,
           arg_max(cost_basis, notification_id) AS cost_basis,
           arg_max(point_value, notification_id) AS point_value
    FROM positions
    GROUP BY account, symbol, date
),
marks AS (
    SELECT symbol, date, arg_max(price, sequence) AS last_price
    FROM trades
    WHERE NOT cancelled
    GROUP BY symbol, date
)
SELECT d.account, d.symbol, d.date, d.position_events,
       d.gross_realized_pnl, d.fees, d.realized_pnl,
       d.net_quantity, d.average_price, m.last_price,
       CAST(round(m.last_price * d.net_quantity * d.point_value - d.cost_basis, 2)
            AS DECIMAL(18, 2)) AS unrealized_pnl,
       d.realized_pnl
         + coalesce(CAST(round(m.last_price * d.net_quantity * d.point_value - d.cost_basis, 2)
                         AS DECIMAL(18, 2)), 0)
         AS total_pnl
FROM day_end d LEFT JOIN marks m USING (symbol, date)
ORDER BY d.account, d.symbol, d.date
""",
)

SIGNAL_HIT_RATE: Final = NamedQuery(
    "signal_hit_rate",
    "share of BUY/SELL signals whose tick's price moved their way --horizon ticks later",
    """
WITH ticks AS (
    SELECT symbol, trade_id, timestamp, price,
           lead(price, {horizon}) OVER (PARTITION BY symbol, date ORDER BY sequence) AS later
    FROM trades
    WHERE NOT cancelled
),
outcomes AS (
    SELECT s.symbol, s.model_version, s.direction,
           CASE
               WHEN t.later IS NULL THEN NULL
               WHEN t.later = t.price THEN 'flat'
               WHEN (t.later > t.price) = (s.direction = 'BUY') THEN 'hit'
               ELSE 'miss'
           END AS outcome
    FROM signals s
    LEFT JOIN ticks t
      ON t.symbol = s.symbol AND t.trade_id = s.tick_trade_id AND t.timestamp = s.timestamp
    WHERE s.direction IN ('BUY', 'SELL')
)
SELECT symbol, model_version,
       count(*) AS signals,
       count(outcome) AS evaluated,
       count(*) FILTER (outcome = 'hit') AS hits,
       count(*) FILTER (outcome = 'miss') AS misses,
       count(*) FILTER (outcome = 'flat') AS flats,
       count(*) FILTER (outcome = 'hit')
         / nullif(count(*) FILTER (outcome IN ('hit', 'miss')), 0) AS hit_rate
FROM outcomes
GROUP BY symbol, model_version
ORDER BY symbol, model_version
""",
)

TRACE: Final = NamedQuery(
    "trace",
    "causation of every fill: fill -> order -> signal -> model version, features and tick",
    """
SELECT f.timestamp AS fill_time, f.account, f.symbol, f.side,
       f.quantity AS fill_quantity, f.price AS fill_price, f.trade_id AS fill_trade_id,
       f.order_id, f.client_order_id, f.strategy_id,
       o.price AS order_price, o.status AS order_status,
       f.signal_id, s.direction, s.confidence, s.model_version,
       s.tick_trade_id, s.timestamp AS tick_time, t.price AS tick_price,
       t.volume AS tick_volume, t.aggressor AS tick_aggressor,
       s.features AS signal_features,
       x.pipeline_version, x.aggressor_flow, x.volatility_roll, x.volume_anomaly,
       x.book_delta, x.price_momentum
FROM fills f
LEFT JOIN orders o ON o.order_id = f.order_id
LEFT JOIN signals s ON s.signal_id = f.signal_id
LEFT JOIN trades t
  ON t.symbol = s.symbol AND t.trade_id = s.tick_trade_id AND t.timestamp = s.timestamp
LEFT JOIN features x
  ON x.symbol = s.symbol AND x.trade_id = s.tick_trade_id AND x.timestamp = s.timestamp
ORDER BY f.timestamp, f.notification_id
""",
)

NAMED_QUERIES: Final[dict[str, NamedQuery]] = {
    query.name: query for query in (VWAP, BARS_1M, DAILY_PNL, SIGNAL_HIT_RATE, TRACE)
}
DEFAULT_HORIZON: Final = 20


def named_sql(name: str, *, horizon: int = DEFAULT_HORIZON) -> str:
    """Return a named query's SQL, or raise KeyError listing the names there are."""
    query = NAMED_QUERIES.get(name)
    if query is None:
        raise KeyError(f"no named query {name!r}; choose one of {', '.join(NAMED_QUERIES)}")
    if horizon < 1:
        raise ValueError(f"invalid horizon {horizon}: must be at least 1 tick")
    return query.sql.replace("{horizon}", str(int(horizon)))
