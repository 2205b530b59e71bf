"""The config file: defaults, validation naming bad keys, flags over the file, generated texts."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hosts.cli import build_parser, config_defaults
from hosts.config import ConfigError, TradingConfig, load_config, parse_config
from hosts.config_toml import commented_default, effective_toml, markdown_reference
from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.domain.fees import B3_DEFAULTS, FeeSchedule
from tradingcore.risk.limits import RiskLimits

ROOT = Path(__file__).resolve().parents[2]


def tradingcore(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hosts.cli", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def parsed(command: str, *arguments: str) -> dict[str, object]:
    argv = [command, *arguments]
    return vars(build_parser(command, config_defaults(command, argv)).parse_args(argv))


def test_an_unknown_key_is_named_with_its_section() -> None:
    with pytest.raises(ConfigError, match=r"capture\.trdes: unknown key"):
        parse_config({"capture": {"trdes": 5}})


def test_every_bad_key_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"api": {"port": "x"}, "risk": {"max_position": -1}, "nope": {}})
    message = str(raised.value)
    assert "api.port" in message
    assert "risk.max_position" in message
    assert "nope: unknown key" in message


def test_two_paces_are_refused_and_one_replaces_the_default_rate() -> None:
    with pytest.raises(ConfigError, match="give one pace"):
        parse_config({"capture": {"fast": True, "rate": 10}})
    assert parse_config({"capture": {"fast": True}}).capture.rate is None
    assert parse_config({}).capture.rate is not None


def test_config_check_names_the_bad_key_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "tradingcore.toml"
    path.write_text("[capture]\ntrdes = 5\n", encoding="utf-8")
    result = tradingcore("config", "check", "--config", str(path))
    assert result.returncode == 2
    assert "capture.trdes: unknown key" in result.stderr


def test_config_check_reports_toml_syntax_errors(tmp_path: Path) -> None:
    path = tmp_path / "tradingcore.toml"
    path.write_text("[capture\n", encoding="utf-8")
    result = tradingcore("config", "check", "--config", str(path))
    assert result.returncode == 2
    assert "not valid TOML" in result.stderr


def test_config_init_writes_a_file_that_loads_as_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "tradingcore.toml"
    assert tradingcore("config", "init", "--config", str(path)).returncode == 0
    assert load_config(path) == TradingConfig()
    again = tradingcore("config", "init", "--config", str(path))
    assert again.returncode == 2
    assert "exists" in again.stderr


def test_config_show_prints_the_effective_values(tmp_path: Path) -> None:
    path = tmp_path / "tradingcore.toml"
    path.write_text("[api]\nport = 8123\n[fees]\nbroker_per_order = 0.5\n", encoding="utf-8")
    result = tradingcore("config", "show", "--config", str(path))
    assert result.returncode == 0
    shown = tomllib.loads(result.stdout)
    assert shown["api"]["port"] == 8123
    assert shown["capture"]["seed"] == 7
    assert shown["fees"] == {"broker_per_order": 0.5}


@given(
    port=st.integers(0, 65535),
    seed=st.integers(-(2**40), 2**40),
    symbols=st.lists(st.sampled_from(["WINZ25", "WDOF26", "PETR4"]), max_size=3),
    rate=st.floats(0.01, 1e6, allow_nan=False),
    hours=st.sampled_from(["always", "09:00-18:25"]),
)
def test_effective_toml_loads_back_to_the_same_config(
    port: int, seed: int, symbols: list[str], rate: float, hours: str
) -> None:
    config = parse_config(
        {
            "api": {"port": port},
            "capture": {"seed": seed, "symbols": symbols, "rate": rate},
            "risk": {"trading_hours": hours, "holidays": ["2025-12-25"]},
            "fees": {"futures": {"WIN": {"day_trade": "0.5"}}, "broker_per_order": 1},
        }
    )
    assert parse_config(tomllib.loads(effective_toml(config))) == config


def test_strategy_keys_and_defaults_match_the_analytics_settings() -> None:
    defaults = AnalyticsConfig()
    expected = {item.name: getattr(defaults, item.name) for item in fields(AnalyticsConfig)}
    analytics_keys = TradingConfig().strategy.model_dump(exclude={"import_path", "params"})
    assert analytics_keys == expected


def test_risk_keys_and_defaults_match_the_risk_limits() -> None:
    limits = RiskLimits.from_plain(TradingConfig().risk.limits())
    assert limits == RiskLimits()


def test_flags_override_the_file_and_the_file_overrides_built_in_defaults(tmp_path: Path) -> None:
    path = tmp_path / "tradingcore.toml"
    path.write_text(
        '[store]\nurl = "memory://"\n[capture]\nseed = 11\n[analytics]\nport = 9555\n'
        "[strategy]\nwindow = 50\n",
        encoding="utf-8",
    )
    capture = parsed("capture", "--config", str(path), "--seed", "12")
    assert capture["seed"] == 12
    assert capture["store"] == "memory://"
    assert capture["ws_url"] == "ws://127.0.0.1:9555"
    analytics = parsed("analytics", f"--config={path}")
    assert analytics["listen"] == ("127.0.0.1", 9555)
    assert analytics["window"] == 50
    assert parsed("analytics")["window"] == AnalyticsConfig().window


def test_a_host_given_a_bad_file_names_the_key_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "tradingcore.toml"
    path.write_text("[analytics]\nprot = 1\n", encoding="utf-8")
    result = tradingcore("analytics", "--config", str(path))
    assert result.returncode == 2
    assert "analytics.prot: unknown key" in result.stderr


def test_the_api_takes_its_risk_limits_from_the_file(tmp_path: Path) -> None:
    from hosts.api.cli import config_from

    path = tmp_path / "tradingcore.toml"
    path.write_text("[risk]\nmax_position = 3\ntrading_hours = 'always'\n", encoding="utf-8")
    args = build_parser("api", config_defaults("api", ["api", "--config", str(path)]))
    config = config_from(args.parse_args(["api", "--config", str(path)]))
    assert config.limits.max_position == 3
    assert config.auto_execution.enabled


def test_the_example_file_is_what_config_init_writes() -> None:
    example = (ROOT / "tradingcore.example.toml").read_text(encoding="utf-8")
    assert example == commented_default(TradingConfig()), (
        "regenerate it: tradingcore config init --config tradingcore.example.toml --force"
    )


def test_docs_list_every_key_with_its_default() -> None:
    docs = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert docs.endswith(markdown_reference()), (
        "regenerate the tables at the end of docs/config.md with `tradingcore config reference`"
    )


def test_unknown_fee_key_is_named_in_the_config_error() -> None:
    with pytest.raises(ConfigError, match="brokerage"):
        parse_config({"fees": {"brokerage": 0.5}})


def test_fees_section_builds_the_api_hosts_fee_schedule() -> None:
    config = parse_config({"fees": {"futures": {"WDO": {"day_trade": "1.10"}}}})
    schedule = FeeSchedule.from_plain(config.fees)
    assert schedule.futures["WDO"].day_trade == Decimal("1.10")
    assert schedule.futures["WIN"] == B3_DEFAULTS.futures["WIN"]
