"""The one config file, `tradingcore.toml`: every host's options, their defaults, validation.

Each section is a pydantic model that forbids unknown keys, so a typo is named with its path
(`capture.trdes: unknown key`). The defaults are the embedded system `tradingcore up` runs
with no file: synthetic market, SQLite store, paper broker, auto-execution on. Command-line
flags override the file (see `hosts.config_args`). To add an option: add a field with a
default and a `description` to its section; `config init`, `config show`, docs/config.md and
the example file are all generated from these models.
"""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tradingcore.domain.errors import DomainError
from tradingcore.domain.fees import FeeSchedule

DEFAULT_CONFIG_FILE: Final = Path("tradingcore.toml")


class ConfigError(ValueError):
    """The config file is unreadable, not TOML, or holds a bad key or value (named)."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class StoreSection(Section):
    """The event store every host shares."""

    url: str = Field(
        default="sqlite:///data/events.sqlite",
        description="event store URL: sqlite:///PATH, postgresql://USER@HOST/DB or memory://",
    )


class CaptureSection(Section):
    """The DataCapture host: where market data comes from and how it is recorded."""

    source: Literal["synthetic", "recording", "profitdll"] = Field(
        default="synthetic", description="market data source: synthetic, recording or profitdll"
    )
    recording: Path | None = Field(
        default=None, description="the recording file (source = recording)"
    )
    symbols: list[str] = Field(
        default_factory=list,
        description='tickers, e.g. ["WINZ25"]; synthetic default WINZ25, recording: all',
    )
    seed: int = Field(default=7, description="synthetic market seed")
    trades: int = Field(default=1_000_000, ge=1, description="synthetic trades per symbol")
    rate: float | None = Field(
        default=200.0,
        gt=0,
        description="replay at this many ticks per second (one of rate/speed/fast)",
    )
    speed: float | None = Field(
        default=None, gt=0, description="replay at the recorded pace times this (recording)"
    )
    fast: bool = Field(default=False, description="replay as fast as possible")
    dll: Path | None = Field(
        default=None, description="ProfitDLL library path (source = profitdll)"
    )
    routing: bool = Field(
        default=False, description="ProfitDLL: initialise market data and routing"
    )
    buffer: int = Field(default=10_000, ge=1, description="WebSocket FIFO capacity (ticks)")
    books: bool = Field(
        default=True,
        description="publish book tops on the WebSocket too (false: trades only, so a "
        "backtest of the store gives the analytics host's signals bit for bit)",
    )
    record_books: bool = Field(
        default=True,
        description="store the changes of each symbol's book top (strategies' on_book and the "
        "backtest's queue fill model replay them)",
    )
    retry_interval: float = Field(
        default=5.0, gt=0, description="seconds between WebSocket reconnection attempts"
    )
    batch_size: int = Field(default=1_000, ge=1, description="trades per stored batch")
    batch_age_ms: float = Field(
        default=10.0,
        gt=0,
        description="store a partial batch after this age (live and paced sources; a replay "
        "as fast as possible by batch_size only)",
    )
    metrics_port: int = Field(
        default=9101, ge=-1, le=65535, description="/metrics and /health port"
    )
    drain_timeout: float = Field(
        default=10.0,
        ge=0,
        description="seconds to let analytics take the buffer when a source ends",
    )
    reconnect_after: float = Field(
        default=30.0, gt=0, description="restart a live feed disconnected this many seconds"
    )

    @model_validator(mode="before")
    @classmethod
    def _one_pace(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = [name for name in ("fast", "rate", "speed") if data.get(name) not in (None, False)]
        if len(given) > 1:
            raise ValueError(f"give one pace, not {' and '.join(given)}: remove the others")
        if given and given[0] != "rate":
            return {**data, "rate": None}  # fast or speed replaces the default rate
        return data


class AnalyticsSection(Section):
    """The Analytics host: its WebSocket server, metrics and helpers."""

    host: str = Field(
        default="127.0.0.1", description="WebSocket address the capture host sends to"
    )
    port: int = Field(default=9001, ge=0, le=65535, description="WebSocket port (spec: 9001)")
    metrics_port: int = Field(
        default=9102, ge=-1, le=65535, description="Prometheus /metrics port (-1: off)"
    )
    model: Path | None = Field(
        default=None, description="model file: loaded at start, saved on updates"
    )
    feature_batch: int = Field(default=1_000, ge=1, description="feature rows per stored event")
    trainer: Literal["process", "thread"] | None = Field(
        default=None, description="where training runs (unset: process, thread on Windows)"
    )
    writer: Literal["split", "process", "thread"] | None = Field(
        default=None, description="where store writes run (unset: split, thread on Windows)"
    )
    forward_signals: bool = Field(
        default=True, description="tradingcore up: POST BUY/SELL signals to the API host"
    )
    api_key_env: str = Field(
        default="TRADINGCORE_API_KEY", description="environment variable holding the API key"
    )


class StrategySection(Section):
    """Features, labels, model and signal thresholds (analytics and backtest alike)."""

    window: int = Field(default=100, description="ticks in the rolling feature window")
    momentum_lag: int = Field(default=10, description="ticks back for price_momentum")
    horizon: int = Field(
        default=20, description="label horizon H: ticks ahead whose move is the label"
    )
    threshold_ticks: int = Field(default=2, description="label threshold in instrument ticks")
    train_stride: int = Field(default=5, description="train on every N-th labelled tick")
    batch_size: int = Field(default=250, description="training rows per model update")
    update_delay: int = Field(default=250, description="ticks before a finished update is used")
    warmup_updates: int = Field(default=1, description="model updates before the first signal")
    buy_threshold: float = Field(default=0.65, description="P(BUY) above which a BUY is signalled")
    sell_threshold: float = Field(
        default=0.65, description="P(SELL) above which a SELL is signalled"
    )
    eta0: float = Field(default=0.01, description="SGD initial learning rate")
    alpha: float = Field(default=0.0001, description="SGD regularisation")
    random_state: int = Field(default=7, description="SGD seed")
    accuracy_batches: int = Field(default=10, description="batches in the rolling accuracy")
    import_path: str | None = Field(
        default=None,
        description="the strategy `backtest` runs: package.module:Class or ma-cross, "
        "volume-breakout, position-policy, signal-follower (docs/strategies.md)",
    )
    params: dict[str, int | float | str | bool] = Field(
        default_factory=dict, description="keyword arguments of that strategy class"
    )


class ApiSection(Section):
    """The API host (REST, dashboard, order manager)."""

    host: str = Field(default="127.0.0.1", description="address to listen on")
    port: int = Field(default=8000, ge=0, le=65535, description="HTTP port (spec: 8000)")
    keys_file: Path = Field(
        default=Path("data/api-keys.json"), description="API key digests (JSON)"
    )
    broker: Literal["paper", "profitdll"] = Field(default="paper", description="where orders go")
    clock: Literal["feed", "wall"] | None = Field(
        default=None,
        description="feed: trade on the tape's time (paper on a synthetic or recorded feed); "
        "wall: the system clock (live); unset: feed with the paper broker, wall with profitdll",
    )
    feed_hold: float = Field(
        default=10.0,
        ge=0,
        description="feed clock: seconds a seen trade waits for a signal at an earlier tick",
    )
    signal_wait: float = Field(
        default=4.0, ge=0, description="seconds a signal waits for its tick to reach the tape"
    )
    poll_interval: float = Field(
        default=0.005,
        gt=0,
        le=5,
        description="seconds between reads of the store's new trades and signals (SQLite "
        "cannot push)",
    )
    max_held_trades: int = Field(
        default=200_000,
        ge=1,
        description="feed clock: seen trades held at most; past it the store is read only as "
        "they are applied (bounds memory when the host falls behind its feed)",
    )
    history: int = Field(
        default=2_000,
        ge=1,
        description="orders and signals kept in memory for the order and signal lists and the "
        "dashboard (~1 KB each); the lists read older ones from the store",
    )
    rate_limit_client: int = Field(default=200, ge=1, description="requests/s per client address")
    rate_limit_key: int = Field(default=100, ge=1, description="requests/s per API key")
    http: Literal["auto", "h11", "httptools"] = Field(
        default="auto", description="uvicorn HTTP parser"
    )
    loop: Literal["auto", "asyncio", "uvloop"] = Field(default="auto", description="event loop")
    capture_health_url: str | None = Field(
        default=None,
        description="the capture host's /health, shown on the dashboard (default: from its "
        "metrics_port)",
    )
    analytics_health_url: str | None = Field(
        default=None,
        description="the analytics host's health URL for the dashboard (default: its /metrics)",
    )


class RiskSection(Section):
    """Pre-trade risk limits and the trading session (money in R$)."""

    trading_hours: str = Field(
        default="09:00-18:25", description='São Paulo session HH:MM-HH:MM, or "always"'
    )
    holidays: list[date] = Field(default_factory=list, description="exchange holidays")
    max_order_quantity: int = Field(default=10, ge=0, description="largest order, contracts")
    max_order_notional: Decimal = Field(
        default=Decimal(500_000),
        ge=0,
        description="largest quantity x price x point value of one order",
    )
    max_position: int = Field(
        default=20, ge=0, description="largest net position per account, symbol"
    )
    daily_loss_limit: Decimal = Field(
        default=Decimal(5_000), ge=0, description="session loss that stops risk-increasing orders"
    )
    price_band_fraction: Decimal = Field(
        default=Decimal("0.02"),
        ge=0,
        description="largest limit-price distance from the last trade, a fraction",
    )
    market_data_max_age_seconds: float = Field(
        default=30, ge=0, description="orders are denied on market data older than this"
    )
    max_orders_per_window: int = Field(default=50, ge=0, description="orders per throttle window")
    throttle_window_seconds: float = Field(default=1, ge=0, description="the throttle window")
    duplicate_window_seconds: float = Field(
        default=2,
        ge=0,
        description=(
            "the same order for the same signal (or two manual ones) within this is a duplicate"
        ),
    )
    allowed_roots: list[str] = Field(
        default_factory=list, description="asset roots that may trade (empty: all)"
    )

    def limits(self) -> dict[str, Any]:
        """Return the limits as `RiskLimits.from_plain` takes them."""
        return self.model_dump(exclude={"trading_hours", "holidays"})


class ExecutionSection(Section):
    """Auto-execution: signals become orders that move the position to a target."""

    enabled: bool = Field(default=True, description="trade received BUY/SELL signals")
    quantity: int = Field(default=1, ge=1, description="target position N: BUY -> +N, SELL -> -N")
    hold_closes: bool = Field(default=True, description="a HOLD signal moves the position to flat")
    min_confidence: float = Field(default=0.6, ge=0, le=1, description="ignore weaker signals")
    scale_by_confidence: bool = Field(default=False, description="N x confidence contracts instead")


class SupervisorSection(Section):
    """`tradingcore up`: start order, health, restarts and shutdown."""

    metrics_port: int = Field(
        default=9100, ge=0, le=65535, description="supervisor /metrics, /health"
    )
    health_timeout: float = Field(
        default=60, gt=0, description="seconds a host has to become healthy"
    )
    backoff_initial: float = Field(default=1, gt=0, description="first restart delay, seconds")
    backoff_max: float = Field(default=30, gt=0, description="restart delay cap, seconds")
    backoff_reset_after: float = Field(
        default=60, gt=0, description="a host up this long gets its delay reset"
    )
    stop_timeout: float = Field(
        default=20, gt=0, description="seconds a host has to flush and exit before it is killed"
    )
    when_capture_ends: Literal["keep-running", "stop"] = Field(
        default="keep-running",
        description="a finite source ended: keep analytics and API up, or stop everything",
    )
    state_file: Path = Field(
        default=Path("data/supervisor/state.json"), description="pids and ports for status and down"
    )
    operator_key_file: Path = Field(
        default=Path("data/operator-api-key.txt"), description="first run: the operator's API key"
    )


class ObservabilitySection(Section):
    """Logs and metrics shared by every host."""

    log_dir: Path = Field(
        default=Path("data/logs"), description="JSONL logs: LOG_DIR/SERVICE/DATE.jsonl"
    )
    metrics_host: str = Field(default="127.0.0.1", description="address of every /metrics server")


class TradingConfig(Section):
    """The whole file."""

    store: StoreSection = StoreSection()
    capture: CaptureSection = CaptureSection()
    analytics: AnalyticsSection = AnalyticsSection()
    strategy: StrategySection = StrategySection()
    api: ApiSection = ApiSection()
    risk: RiskSection = RiskSection()
    fees: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "fee schedule over the dated B3 defaults (docs/money.md): futures.ROOT.day_trade and "
            ".position_trade in R$ per contract, stocks.day_trade and .position_trade as a "
            "fraction of notional, broker_per_contract, broker_per_order, opening_as_day_trade, "
            "as_of, source"
        ),
    )
    execution: ExecutionSection = ExecutionSection()
    supervisor: SupervisorSection = SupervisorSection()
    observability: ObservabilitySection = ObservabilitySection()

    @field_validator("fees")
    @classmethod
    def _fee_schedule(cls, fees: dict[str, Any]) -> dict[str, Any]:
        try:
            FeeSchedule.from_plain(fees)  # checked now; the hosts build it again
        except (DomainError, ValueError) as error:
            raise ValueError(str(error)) from None
        return fees


def parse_config(plain: dict[str, Any], where: str = "config") -> TradingConfig:
    """Validate a parsed file; raise ConfigError naming every bad key with its path."""
    try:
        return TradingConfig.model_validate(plain)
    except ValidationError as error:
        raise ConfigError(_describe(error, where)) from None


def load_config(path: Path | None) -> TradingConfig:
    """Read and validate a TOML file; None gives the embedded defaults."""
    if path is None:
        return TradingConfig()
    try:
        with Path(path).open("rb") as handle:
            plain = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return parse_config(plain, str(path))


def _describe(error: ValidationError, where: str) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            text = "unknown key"
        else:
            text = item["msg"].removeprefix("Value error, ")
            text += f" (got {item['input']!r})" if item["type"] != "missing" else ""
        lines.append(f"{where}: {key}: {text}")
    return "\n".join(lines)
