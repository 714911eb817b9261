"""The environment a run ran in: interpreter, machine, GPUs, packages, chosen env variables.

Runs at every run start, so it must stay cheap: the parts that cannot change while a process
lives (machine, packages, GPUs) are collected once per process; environment variables are read
fresh on every call. Only allow-listed variables are kept, and a name that looks like it holds a
secret is never recorded even if allow-listed: env.json is meant to be rsynced and shared.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import os
import platform
import re
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from mmtop.store.capture.code import looks_secret, strip_url_credentials

# Variables that explain how a run was launched and scheduled, never what it may access.
ENV_ALLOW = (
    "CUDA_VISIBLE_DEVICES",
    "CUDA_DEVICE_ORDER",
    "NVIDIA_VISIBLE_DEVICES",
    "HIP_VISIBLE_DEVICES",
    "ROCR_VISIBLE_DEVICES",
    "SLURM_JOB_ID",
    "SLURM_JOB_NAME",
    "SLURM_ARRAY_JOB_ID",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_PROCID",
    "SLURM_LOCALID",
    "SLURM_NODEID",
    "SLURM_NTASKS",
    "SLURM_JOB_NODELIST",
    "SLURM_JOB_PARTITION",
    "SLURM_CPUS_PER_TASK",
    "SLURM_CLUSTER_NAME",
    "PBS_JOBID",
    "LSB_JOBID",
    "LOCAL_RANK",
    "RANK",
    "WORLD_SIZE",
    "LOCAL_WORLD_SIZE",
    "NODE_RANK",
    "GROUP_RANK",
    "MASTER_ADDR",
    "MASTER_PORT",
    "TORCHELASTIC_RUN_ID",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "PYTHONHASHSEED",
    "PYTHONOPTIMIZE",
    "CUBLAS_WORKSPACE_CONFIG",
    "PYTORCH_CUDA_ALLOC_CONF",
    "NCCL_DEBUG",
    "NCCL_SOCKET_IFNAME",
    "XLA_PYTHON_CLIENT_PREALLOCATE",
    "TF_ENABLE_ONEDNN_OPTS",
    "CONDA_DEFAULT_ENV",
    "CONDA_PREFIX",
    "VIRTUAL_ENV",
    "HOSTNAME",
    "MMTOP_DIR",
)

_NAME_SEP = re.compile(r"[-_.]+")
_static: dict[str, Any] | None = None
_static_lock = threading.Lock()


def collect_env() -> dict[str, Any]:
    """A JSON-serialisable description of this process's environment (a fresh copy)."""
    global _static
    with _static_lock:
        if _static is None:
            _static = _collect_static()
        result = copy.deepcopy(_static)
    result["env_vars"] = env_vars()
    return result


def clear_cache() -> None:
    """Forget the per-process cache (for a process whose packages changed)."""
    global _static
    with _static_lock:
        _static = None


def env_vars(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The allow-listed variables that are set, minus any name that looks like a secret."""
    source = os.environ if environ is None else environ
    out: dict[str, str] = {}
    for name in ENV_ALLOW:
        value = source.get(name)
        if value is None or looks_secret(name):
            continue
        out[name] = strip_url_credentials(value)
    return out


def _collect_static() -> dict[str, Any]:
    notes: list[str] = []
    local: dict[str, dict[str, Any]] = {}
    gpus, gpu_note = gpu_info()
    if gpu_note:
        notes.append(gpu_note)
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
        },
        "hostname": socket.gethostname(),
        "cpu": _cpu_info(),
        "memory_total_bytes": _memory_total(),
        "gpus": gpus,
        "packages": installed_packages(local),
        "local_packages": local,
        "notes": notes,
    }


def _cpu_info() -> dict[str, Any]:
    import psutil

    return {
        "model": cpu_model(),
        "logical": psutil.cpu_count(logical=True),
        "physical": psutil.cpu_count(logical=False),
    }


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's marketing name; /proc/cpuinfo on Linux, else what `platform` knows."""
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition(":")
                # x86 says "model name"; some ARM kernels only say "Hardware" or "Processor".
                if sep and key.strip() in ("model name", "Hardware", "Processor", "cpu model"):
                    if value.strip():
                        return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_total() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def gpu_info() -> tuple[list[dict[str, Any]], str | None]:
    """NVIDIA GPUs through NVML: ([], None) without nvidia-ml-py, ([], note) if NVML fails."""
    try:
        import pynvml
    except ImportError:
        return [], None
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # noqa: BLE001 - no driver, no device: not an error for a CPU box
        return [], f"NVML unavailable: {exc}"
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        cuda = _cuda_version(pynvml)
        gpus: list[dict[str, Any]] = []
        for index in range(int(pynvml.nvmlDeviceGetCount())):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            gpus.append(
                {
                    "index": index,
                    "name": _text(pynvml.nvmlDeviceGetName(handle)),
                    "memory_total_bytes": int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
                    "driver_version": driver,
                    "cuda_version": cuda,
                }
            )
        return gpus, None
    except Exception as exc:  # noqa: BLE001 - NVML's own errors cost the GPU list
        return [], f"NVML error: {exc}"
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - NVML shutdown: nothing left to do
            pass


def _cuda_version(pynvml: Any) -> str | None:
    try:
        raw = int(pynvml.nvmlSystemGetCudaDriverVersion())
    except Exception:  # noqa: BLE001 - old driver: the version is optional
        return None
    # NVML encodes 12.2 as 12020.
    return f"{raw // 1000}.{(raw % 1000) // 10}"


def _text(value: object) -> str:
    # Older nvidia-ml-py returns bytes, newer returns str.
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name: `Scikit_Learn` -> `scikit-learn`."""
    return _NAME_SEP.sub("-", name).lower()


def installed_packages(local: dict[str, dict[str, Any]] | None = None) -> dict[str, str]:
    """{canonical name: version} of every importable distribution, sorted by name.

    The first distribution found on sys.path wins, as it does for import. Reading only the
    header of each METADATA file is ~25x faster than `Distribution.metadata`, which parses the
    whole file (long descriptions included) with the email parser. Given `local`, it is
    filled with the packages installed from a local folder or file (`pip install -e .`,
    `pip install ./pkg`): no index has them, so a rebuild cannot pin them.
    """
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name_version = _read_header(dist)
        if name_version is None:
            try:
                name_version = (dist.metadata["Name"], dist.version)
            except Exception:  # noqa: BLE001 - a broken package costs its line only
                continue
        name, version = name_version
        if not name or not version:
            continue
        key = canonical_name(name)
        if key in found:
            continue
        found[key] = version
        if local is not None:
            origin = _local_origin(dist)
            if origin is not None:
                local[key] = origin
    if local is not None:
        ordered = dict(sorted(local.items()))
        local.clear()
        local.update(ordered)
    return dict(sorted(found.items()))


def _local_origin(dist: importlib.metadata.Distribution) -> dict[str, Any] | None:
    """{"url", "editable"} from PEP 610's direct_url.json when the source is a local path."""
    try:
        text = dist.read_text("direct_url.json")
    except Exception:  # noqa: BLE001 - unreadable metadata: treated as from an index
        return None
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    url = doc.get("url") if isinstance(doc, dict) else None
    if not isinstance(url, str) or not url.startswith("file:"):
        return None
    info = doc.get("dir_info")
    editable = bool(info.get("editable")) if isinstance(info, dict) else False
    return {"url": url, "editable": editable}


def _read_header(dist: importlib.metadata.Distribution) -> tuple[str, str] | None:
    folder = getattr(dist, "_path", None)
    if not isinstance(folder, Path):
        return None
    for filename in ("METADATA", "PKG-INFO"):
        name = version = ""
        try:
            with (folder / filename).open(encoding="utf-8", errors="replace") as f:
                for line in f:
                    if line.startswith("Name:"):
                        name = line[5:].strip()
                    elif line.startswith("Version:"):
                        version = line[8:].strip()
                    if (name and version) or line in ("\n", "\r\n"):
                        break
        except OSError:
            continue
        return (name, version) if name and version else None
    return None
