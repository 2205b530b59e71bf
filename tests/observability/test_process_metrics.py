"""Process metrics: the same names from prometheus-client's /proc reader and the portable one."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from adapters.process_metrics import (
    PROCESS_METRICS,
    PortableProcessCollector,
    register_process_metrics,
    resident_memory_bytes,
)


def sample_names(registry: CollectorRegistry) -> set[str]:
    return {sample.name for family in registry.collect() for sample in family.samples}


def test_a_host_registry_gets_process_python_and_gc_metrics() -> None:
    registry = CollectorRegistry()
    register_process_metrics(registry)
    assert set(PROCESS_METRICS) | {"python_info", "python_gc_collections_total"} <= sample_names(
        registry
    )


def test_the_portable_collector_exports_the_same_names_without_proc() -> None:
    registry = CollectorRegistry()
    registry.register(PortableProcessCollector())
    assert sample_names(registry) == set(PROCESS_METRICS)
    cpu = registry.get_sample_value("process_cpu_seconds_total")
    sum(range(200_000))  # some CPU time
    assert cpu is not None and registry.get_sample_value("process_cpu_seconds_total") >= cpu  # type: ignore[operator]
    assert (resident_memory_bytes() or 0) > 1_000_000
