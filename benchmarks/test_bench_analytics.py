"""Analytics benchmarks: live path per tick, vectorized replay, WebSocket tick to stored signal."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapters.models import save_models
from hosts.analytics.cli import SWITCH_INTERVAL_S
from hosts.analytics.service import AnalyticsService, AnalyticsSettings
from tradingcore.analytics.config import AnalyticsConfig
from tradingcore.analytics.model import OnlineModel
from tradingcore.analytics.pipeline import SymbolPipeline
from tradingcore.analytics.replay import TickSeries, replay_symbol
from tradingcore.analytics.state import model_state, restore_model
from tradingcore.domain.signal import Signal
from tradingcore.domain.values import PRICE_SCALE

THRESHOLD = 2 * 5 * PRICE_SCALE
START_MS = 1_764_590_400_000
FEATURE_BATCH = 1_000


def random_walk(count: int, seed: int = 1) -> TickSeries:
    """WIN-like ticks: a trending random walk on the 5-point grid, bursts of volume."""
    generator = np.random.default_rng(seed)
    drift = np.repeat(generator.uniform(-0.15, 0.15, count // 500 + 1), 500)[:count]
    up = generator.random(count) < 0.5 + drift
    steps = generator.choice([0, 0, 0, 1, 1, 2], size=count) * np.where(up, 1, -1)
    prices = 127_850 * PRICE_SCALE + np.cumsum(steps) * 5 * PRICE_SCALE
    return TickSeries(
        np.arange(1, count + 1, dtype=np.int64) * 10,
        START_MS + np.cumsum(generator.integers(0, 3, count)),
        prices.astype(np.int64),
        np.maximum(1, generator.pareto(1.6, count).astype(np.int64)),
        np.where(up, 1, -1).astype(np.int64),
        generator.integers(-40, 40, count).astype(np.float64),
    )


def trained(config: AnalyticsConfig) -> OnlineModel:
    model = OnlineModel(config)
    replay_symbol(random_walk(60_000, seed=2), config, model, THRESHOLD)
    return model


def live_run(config: AnalyticsConfig, state: dict[str, Any], ticks: TickSeries) -> dict[str, Any]:
    pipeline = SymbolPipeline(config, restore_model(state), THRESHOLD)
    columns = [
        ticks.trade_ids.tolist(),
        ticks.timestamps_ms.tolist(),
        ticks.prices.tolist(),
        ticks.volumes.tolist(),
        ticks.aggressor_signs.tolist(),
        ticks.book_deltas.tolist(),
    ]
    durations = []
    clock = time.perf_counter_ns
    on_tick = pipeline.on_tick
    started = clock()
    for trade_id, stamp, price, volume, sign, book in zip(*columns, strict=True):
        before = clock()
        on_tick(trade_id, stamp, price, volume, sign, book)
        durations.append(clock() - before)
    seconds = (clock() - started) / 1e9
    durations.sort()
    return {
        "ticks": len(ticks),
        "ticks_per_s": round(len(ticks) / seconds),
        "p50_us": round(durations[len(durations) // 2] / 1e3, 2),
        "p99_us": round(durations[int(len(durations) * 0.99)] / 1e3, 2),
        "max_us": round(durations[-1] / 1e3, 1),
        "updates": pipeline.model.updates - restore_model(state).updates,
        "signals": sum(pipeline.stats.signals.values()),
    }


def test_live_path_per_tick_features_inference_and_updates(benchmark: Any) -> None:
    config = AnalyticsConfig()
    state = model_state(trained(config))
    ticks = random_walk(300_000, seed=3)
    result = benchmark.pedantic(live_run, args=(config, state, ticks), rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(f"\nlive path: {result}")
    assert result["updates"] > 0


def test_replay_vectorized_one_million_ticks(benchmark: Any) -> None:
    config = AnalyticsConfig()
    ticks = random_walk(1_000_000, seed=4)

    def fresh() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (ticks, config, OnlineModel(config), THRESHOLD), {}

    result = benchmark.pedantic(replay_symbol, setup=fresh, rounds=3, iterations=1)
    seconds = benchmark.stats.stats.median
    benchmark.extra_info.update(
        {"ticks_per_s": round(len(ticks) / seconds), "updates": result.updates}
    )
    print(f"\nreplay: {len(ticks) / seconds:,.0f} ticks/s, {result.updates} updates")


SENDER = """
import json, sys, time
from websockets.sync.client import connect
url, path, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
messages = [line for line in open(path)]
sent = {}
ids = [json.loads(message)["trade_id"] for message in messages[:count]]
with connect(url, compression=None, ping_interval=None) as client:
    started = time.perf_counter()
    for index, message in enumerate(messages[:count]):
        ahead = started + index / rate - time.perf_counter()
        if ahead > 0.0005:
            time.sleep(ahead)
        sent[ids[index]] = time.time_ns()
        client.send(message)
    time.sleep(0.5)
json.dump(sent, open(path + ".sent", "w"))
"""


RAW_SENDER = """
import base64, json, os, socket, struct, sys, time
from urllib.parse import urlparse
url, path, count, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
messages = [line.rstrip("\\n").encode() for line in open(path)][:count]
ids = [json.loads(message)["trade_id"] for message in messages]
def frame(payload, opcode=0x1):
    # A client frame must be masked; the key is ours to choose, and with an all-zero key the
    # masked payload equals the payload, so every frame is built once, before the clock runs.
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    else:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    return head + b"\\0\\0\\0\\0" + payload
frames = [frame(message) for message in messages]
parsed = urlparse(url)
sock = socket.create_connection((parsed.hostname, parsed.port))
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
key = base64.b64encode(os.urandom(16)).decode()
sock.sendall(
    f"GET {parsed.path or '/'} HTTP/1.1\\r\\nHost: {parsed.hostname}:{parsed.port}\\r\\n"
    f"Upgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: {key}\\r\\n"
    "Sec-WebSocket-Version: 13\\r\\n\\r\\n".encode()
)
answer = b""
while b"\\r\\n\\r\\n" not in answer:
    answer += sock.recv(4096)
assert answer.startswith(b"HTTP/1.1 101"), answer
stamps = [0] * count
started = time.perf_counter()
for index in range(count):
    ahead = started + index / rate - time.perf_counter()
    if ahead > 0.0005:
        time.sleep(ahead)
    stamps[index] = time.time_ns()
    sock.sendall(frames[index])
time.sleep(0.5)
sock.sendall(frame(struct.pack("!H", 1000), opcode=0x8))
sock.close()
json.dump(dict(zip(ids, stamps)), open(path + ".sent", "w"))
"""
"""The load generator on a raw socket: frames built beforehand, so per tick it only stamps the
time and sends (the `websockets` client above costs the 2-core box far more CPU per message)."""
SENDERS = {"raw": RAW_SENDER, "websockets": SENDER}


def websocket_run(
    tmp_path: Path,
    count: int,
    rate: int,
    threshold: float,
    store_url: str,
    writer: str = "split",
    client: str = "raw",
) -> dict[str, Any]:
    default = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # as the analytics host sets it
    try:
        return _websocket_run(tmp_path, count, rate, threshold, store_url, writer, client)
    finally:
        sys.setswitchinterval(default)


def _websocket_run(
    tmp_path: Path,
    count: int,
    rate: int,
    threshold: float,
    store_url: str,
    writer: str,
    client: str,
) -> dict[str, Any]:
    config = AnalyticsConfig(buy_threshold=threshold, sell_threshold=threshold)
    model_path = tmp_path / "model.json"
    save_models(model_path, {"WINZ25": trained(config)})
    ticks = random_walk(count, seed=5)
    lines = tmp_path / "ticks.jsonl"
    with lines.open("w") as file:
        for index in range(count):
            price = int(ticks.prices[index]) / PRICE_SCALE
            file.write(
                f'{{"type":"trade","symbol":"WINZ25","price":{price!r},'
                f'"volume":{int(ticks.volumes[index])},'
                f'"aggressor":"{"B" if ticks.aggressor_signs[index] > 0 else "S"}",'
                f'"timestamp":{int(ticks.timestamps_ms[index])},'
                f'"trade_id":{int(ticks.trade_ids[index])}}}\n'
            )
    service = AnalyticsService(
        AnalyticsSettings(
            store_url=store_url,
            port=0,
            model_path=model_path,
            log_dir=tmp_path / "logs",
            config=config,
            feature_batch=FEATURE_BATCH,
            writer=writer,
        )
    )
    stored: dict[int, int] = {}

    def on_signal(signal: Signal) -> None:
        stored[signal.tick_trade_id] = time.time_ns()

    service.engine.on_signal = on_signal
    service.start()
    assert service.engine.writer.ready(60.0)  # the writer process is up
    sender = subprocess.run(
        [
            *(sys.executable, "-c", SENDERS[client], service.server.url),
            *(str(lines), str(count), str(rate)),
        ],
        check=True,
        timeout=300,
    )
    deadline = time.monotonic() + 60
    while service.server.accepted < count and time.monotonic() < deadline:
        time.sleep(0.01)
    service.stop()
    sent = {int(key): value for key, value in json.loads(Path(f"{lines}.sent").read_text()).items()}
    latencies = sorted((stored[key] - sent[key]) / 1e6 for key in stored)
    first = min(sent.values())
    worst = sorted(stored, key=lambda key: sent[key] - stored[key])[:5]
    return {
        "ticks": count,
        "rate": rate,
        "threshold": threshold,
        "store": store_url.split(":", maxsplit=1)[0],
        "synchronous": store_url.partition("synchronous=")[2] or "default",
        "writer": writer,
        "client": client,
        "accepted": service.server.accepted,
        "signals_stored": len(latencies),
        "p50_ms": round(latencies[len(latencies) // 2], 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)], 3),
        "max_ms": round(latencies[-1], 3),
        "worst_at_s": [round((sent[key] - first) / 1e9, 2) for key in worst],
        "sender_exit": sender.returncode,
    }


def with_synchronous(store_url: str, synchronous: str) -> str:
    """The store URL with `?synchronous=` for SQLite (the default is full); skip otherwise."""
    if synchronous == "full":
        return store_url
    if not store_url.startswith("sqlite"):
        pytest.skip("synchronous= is a SQLite option")
    return f"{store_url}?synchronous={synchronous}"


@pytest.mark.parametrize("client", ["raw", "websockets"])
@pytest.mark.parametrize("synchronous", ["full", "normal"])
@pytest.mark.parametrize("threshold", [0.65, 0.5])
def test_websocket_tick_to_stored_signal_at_10k_ticks_per_second(
    benchmark: Any,
    tmp_path: Path,
    threshold: float,
    synchronous: str,
    client: str,
    bench_store_url: str,
) -> None:
    """SQLite with `synchronous=full` (the store's default) and `normal` (see the URL option);
    ticks sent by a raw-socket client (frames built beforehand) or the `websockets` one."""
    store_url = with_synchronous(bench_store_url, synchronous)
    result = benchmark.pedantic(
        websocket_run,
        args=(tmp_path, 100_000, 10_000, threshold, store_url, "split", client),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(result)
    print(f"\nwebsocket to stored signal: {result}")
    assert result["accepted"] == 100_000


@pytest.mark.parametrize("writer", ["thread", "process"])
@pytest.mark.parametrize("synchronous", ["full", "normal"])
@pytest.mark.parametrize("threshold", [0.65, 0.5])
def test_other_writers_tick_to_stored_signal_at_10k_ticks_per_second(
    benchmark: Any,
    tmp_path: Path,
    threshold: float,
    synchronous: str,
    writer: str,
    bench_store_url: str,
) -> None:
    """The same with every write on a thread of the host, or all in the writer process."""
    store_url = with_synchronous(bench_store_url, synchronous)
    result = benchmark.pedantic(
        websocket_run,
        args=(tmp_path, 100_000, 10_000, threshold, store_url, writer),
        rounds=1,
        iterations=1,
    )
    benchmark.extra_info.update(result)
    print(f"\n{writer} writer, tick to stored signal: {result}")
    assert result["accepted"] == 100_000
