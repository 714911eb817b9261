"""SystemSampler samples for real and stops at once."""

from __future__ import annotations

import threading
import time

import psutil
import pytest

from mmtop.store.capture import SystemSampler

DEADLINE = 20.0


class Collector:
    """An emit target that lets a test wait for n samples without sleeping."""

    def __init__(self, fail_first: int = 0) -> None:
        self.samples: list[tuple[dict[str, float], float]] = []
        self.calls = 0
        self._fail_first = fail_first
        self._changed = threading.Condition()

    def __call__(self, values: dict[str, float], when: float) -> None:
        with self._changed:
            self.calls += 1
            self._changed.notify_all()
            if self.calls <= self._fail_first:
                raise RuntimeError("store closed")
            self.samples.append((values, when))

    def wait_calls(self, n: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.calls >= n, timeout=DEADLINE)


def test_emits_real_samples() -> None:
    collector = Collector()
    sampler = SystemSampler(collector, every=0.02)
    before = time.time()
    sampler.start()
    try:
        collector.wait_calls(3)
    finally:
        sampler.stop()
    after = time.time()
    first, first_time = collector.samples[0]
    later, _ = collector.samples[2]
    total_mb = psutil.virtual_memory().total / 2**20
    assert {"sys/proc_rss_mb", "sys/mem_used_pct"} <= set(first)
    assert "sys/proc_cpu_pct" not in first  # no interval to measure CPU over yet
    assert {"sys/proc_rss_mb", "sys/proc_cpu_pct", "sys/cpu_pct", "sys/mem_used_pct"} <= set(later)
    assert 1.0 < first["sys/proc_rss_mb"] < total_mb
    assert 0.0 < first["sys/mem_used_pct"] <= 100.0
    assert later["sys/proc_cpu_pct"] >= 0.0
    assert 0.0 <= later["sys/cpu_pct"] <= 100.0
    assert all(isinstance(v, float) for values, _ in collector.samples for v in values.values())
    assert before <= first_time <= after
    assert sampler.samples == len(collector.samples)
    assert sampler.peak_rss_mb >= max(v["sys/proc_rss_mb"] for v, _ in collector.samples)


def test_stop_wakes_the_thread_instead_of_waiting_out_the_interval() -> None:
    collector = Collector()
    sampler = SystemSampler(collector, every=3600.0)
    sampler.start()
    collector.wait_calls(1)  # the first sample comes at once
    assert sampler.running
    sampler.stop(timeout=DEADLINE)
    assert not sampler.running  # joined well before the hour was up
    assert collector.calls == 1
    sampler.stop()  # idempotent


def test_a_failing_emit_does_not_end_sampling() -> None:
    collector = Collector(fail_first=2)
    sampler = SystemSampler(collector, every=0.02)
    sampler.start()
    try:
        collector.wait_calls(3)
    finally:
        sampler.stop()
    assert sampler.errors == 2
    assert sampler.last_error == "RuntimeError: store closed"
    assert len(collector.samples) >= 1


def test_disk_usage_when_asked(tmp_path: object) -> None:
    sampler = SystemSampler(lambda values, when: None, disk_path=str(tmp_path))
    sampler.sample()
    values = sampler.sample()
    assert values["sys/disk_used_pct"] == pytest.approx(
        psutil.disk_usage(str(tmp_path)).percent, abs=1.0
    )


def test_a_sampler_starts_once_and_needs_a_positive_interval() -> None:
    with pytest.raises(ValueError, match="every must be > 0"):
        SystemSampler(lambda values, when: None, every=0)
    sampler = SystemSampler(lambda values, when: None, every=3600.0)
    sampler.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            sampler.start()
    finally:
        sampler.stop()
