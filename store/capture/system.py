"""Samples of the machine while a run trains: process memory and CPU, system memory, GPUs.

A daemon thread wakes every `every` seconds and hands one sample to `emit`. A sample costs a
few /proc reads (psutil.Process is created once) and a few NVML calls, so the training loop
does not notice it. stop() wakes the thread through an Event and joins it at once.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

Emit = Callable[[dict[str, float], float], None]
_MB = float(1 << 20)


class SystemSampler:
    """Calls `emit({"sys/proc_rss_mb": ..., ...}, unix_time)` every `every` seconds.

    Keys: sys/proc_rss_mb, sys/proc_cpu_pct (100 = one core busy; absent from the first
    sample, whose CPU time has no interval yet), sys/cpu_pct, sys/mem_used_pct, and per NVML GPU
    i: sys/gpu{i}_util_pct, sys/gpu{i}_mem_mb, sys/gpu{i}_mem_pct, sys/gpu{i}_temp_c,
    sys/gpu{i}_power_w (each only where the device reports it). With `disk_path`, also
    sys/disk_used_pct of the file system holding it. GPU indices are NVML's, which ignore
    CUDA_VISIBLE_DEVICES.
    """

    def __init__(self, emit: Emit, every: float = 5.0, disk_path: str | None = None) -> None:
        if every <= 0:
            raise ValueError(f"every must be > 0 seconds, got {every!r}")
        import psutil

        self._emit = emit
        self._every = every
        self._disk_path = disk_path
        self._psutil = psutil
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gpus: list[Any] = []
        self._nvml: Any = None
        self._peak_rss = 0.0
        self._primed = False
        self.samples = 0
        self.errors = 0
        self.last_error: str | None = None

    @property
    def peak_rss_mb(self) -> float:
        """Highest RSS of this process: the larger of the samples and the kernel's own peak."""
        return max(self._peak_rss, _kernel_peak_rss_mb())

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("SystemSampler already started")
        self._open_nvml()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="mmtop-system", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Wake the sampler and wait for it; idempotent."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._close_nvml()

    def sample(self) -> dict[str, float]:
        """One sample, taken now (the thread calls this; callable directly too)."""
        values: dict[str, float] = {}
        rss = self._process.memory_info().rss / _MB
        values["sys/proc_rss_mb"] = rss
        self._peak_rss = max(self._peak_rss, rss)
        # cpu_percent(None) measures since its previous call, so the first one is meaningless.
        cpu = self._process.cpu_percent(None)
        system_cpu = self._psutil.cpu_percent(None)
        if self._primed:
            values["sys/proc_cpu_pct"] = float(cpu)
            values["sys/cpu_pct"] = float(system_cpu)
        self._primed = True
        values["sys/mem_used_pct"] = float(self._psutil.virtual_memory().percent)
        if self._disk_path is not None:
            try:
                values["sys/disk_used_pct"] = float(
                    self._psutil.disk_usage(self._disk_path).percent
                )
            except OSError:
                pass
        for index, handle in enumerate(self._gpus):
            values.update(_gpu_sample(self._nvml, index, handle))
        return values

    def _loop(self) -> None:
        # First sample at once (short runs get one too), then one per interval. Event.wait is
        # the sleep, so stop() ends it without waiting out the interval.
        while True:
            try:
                values = self.sample()
                self._emit(values, time.time())
                self.samples += 1
            except Exception as exc:  # noqa: BLE001 - a failed sample must not end the run
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
            if self._stop.wait(self._every):
                return

    def _open_nvml(self) -> None:
        try:
            import pynvml
        except ImportError:
            return
        try:
            pynvml.nvmlInit()
            count = int(pynvml.nvmlDeviceGetCount())
            self._gpus = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._nvml = pynvml
        except Exception:  # noqa: BLE001 - no driver or device: no GPUs
            self._gpus = []  # no driver or no device: sample without GPUs

    def _close_nvml(self) -> None:
        if self._nvml is None:
            return
        if self._thread is not None and self._thread.is_alive():
            return  # the thread did not stop in time; leave NVML to it
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - NVML shutdown: nothing left to do
            pass
        self._nvml = None
        self._gpus = []


def _gpu_sample(nvml: Any, index: int, handle: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    prefix = f"sys/gpu{index}_"
    # Each query may be unsupported on a given device; keep what answers.
    try:
        out[prefix + "util_pct"] = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    except Exception:  # noqa: BLE001 - NVML errors: the value is optional
        pass
    try:
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        out[prefix + "mem_mb"] = memory.used / _MB
        if memory.total:
            out[prefix + "mem_pct"] = 100.0 * memory.used / memory.total
    except Exception:  # noqa: BLE001 - NVML errors: the value is optional
        pass
    try:
        out[prefix + "temp_c"] = float(nvml.nvmlDeviceGetTemperature(handle, 0))  # 0: GPU die
    except Exception:  # noqa: BLE001 - NVML errors: the value is optional
        pass
    try:
        out[prefix + "power_w"] = nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0  # milliwatts
    except Exception:  # noqa: BLE001 - NVML errors: the value is optional
        pass
    return out


def _kernel_peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / _MB if sys.platform == "darwin" else peak / 1024.0
