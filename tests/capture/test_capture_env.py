"""collect_env: what it records, and what it must never record."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import sys
import types
from pathlib import Path
from typing import Any, cast

import pytest

from mmtop.store.capture import collect_env
from mmtop.store.capture import env as env_module

SECRETS = {
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI-secret-value-1",
    "WANDB_API_KEY": "wandb-secret-value-2",
    "HF_TOKEN": "hf_secret_value_3",
    "GITHUB_TOKEN": "ghp_secret_value_4",
    "DATABASE_PASSWORD": "hunter2-secret-value-5",
}


def test_no_secret_name_or_value_reaches_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    dumped = json.dumps(collect_env())
    for name, value in SECRETS.items():
        assert name not in dumped
        assert value not in dumped


def test_allow_listed_variables_are_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,3")
    monkeypatch.setenv("SLURM_JOB_ID", "424242")
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    found = collect_env()["env_vars"]
    assert found["CUDA_VISIBLE_DEVICES"] == "1,3"
    assert found["SLURM_JOB_ID"] == "424242"
    assert found["OMP_NUM_THREADS"] == "4"
    assert found["PYTHONHASHSEED"] == "0"
    assert "WORLD_SIZE" not in found


def test_only_allow_listed_names_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_UNLISTED_VARIABLE", "harmless")
    assert set(collect_env()["env_vars"]) <= set(env_module.ENV_ALLOW)


def test_a_secret_looking_name_is_dropped_even_when_allow_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(env_module, "ENV_ALLOW", ("RANK", "MY_SERVICE_TOKEN", "S3_KEY"))
    environ = {"RANK": "3", "MY_SERVICE_TOKEN": "abc", "S3_KEY": "def"}
    assert env_module.env_vars(environ) == {"RANK": "3"}


def test_credentials_in_an_allow_listed_url_value_are_stripped() -> None:
    environ = {"MASTER_ADDR": "https://alice:pa55word@head-node:29500/x"}
    assert env_module.env_vars(environ) == {"MASTER_ADDR": "https://head-node:29500/x"}


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("AWS_SECRET_ACCESS_KEY", True),
        ("WANDB_API_KEY", True),
        ("HF_TOKEN", True),
        ("OPENAI_APIKEY", True),
        ("PGPASSWORD", True),
        ("SSH_AUTH_SOCK", True),
        ("AZURE_STORAGE_SAS_TOKEN", True),
        ("S3_KEY", True),
        ("CUDA_VISIBLE_DEVICES", False),
        ("SLURM_JOB_ID", False),
        ("MASTER_ADDR", False),
        ("PYTHONHASHSEED", False),
        ("MKL_NUM_THREADS", False),
        ("max_tokens", False),
        ("tokenizer_name", False),
    ],
)
def test_looks_secret(name: str, secret: bool) -> None:
    # looks_secret is imported into env from capture.code, not re-exported by name.
    assert cast(Any, env_module).looks_secret(name) is secret


def test_packages_include_pytest_with_its_version() -> None:
    packages = collect_env()["packages"]
    assert packages["pytest"] == importlib.metadata.version("pytest")
    assert packages["psutil"] == importlib.metadata.version("psutil")
    assert list(packages) == sorted(packages)
    assert all(name == env_module.canonical_name(name) for name in packages)


def test_interpreter_and_machine() -> None:
    found = collect_env()
    assert found["python"] == {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }
    assert found["platform"]["system"] == platform.system()
    assert found["platform"]["machine"] == platform.machine()
    assert found["cpu"]["logical"] >= 1
    assert found["memory_total_bytes"] > 0
    assert json.loads(json.dumps(found)) == found


def test_the_cache_hands_out_copies() -> None:
    first = collect_env()
    first["packages"]["pytest"] = "tampered"
    first["python"]["version"] = "tampered"
    second = collect_env()
    assert second["packages"]["pytest"] == importlib.metadata.version("pytest")
    assert second["python"]["version"] == platform.python_version()


def test_canonical_name() -> None:
    assert env_module.canonical_name("Scikit_Learn") == "scikit-learn"
    assert env_module.canonical_name("zope.interface") == "zope-interface"
    assert env_module.canonical_name("typing__extensions") == "typing-extensions"


def test_cpu_model_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\n"
        "model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\nprocessor\t: 1\n"
    )
    assert env_module.cpu_model(cpuinfo) == "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"


def test_cpu_model_without_cpuinfo_falls_back_to_platform(tmp_path: Path) -> None:
    expected = platform.processor() or platform.machine()
    assert env_module.cpu_model(tmp_path / "missing") == expected


def test_no_nvml_means_no_gpus_and_no_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` fail
    assert env_module.gpu_info() == ([], None)


def test_an_nvml_failure_means_no_gpus_and_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = types.ModuleType("pynvml")

    def init() -> None:
        raise RuntimeError("Driver Not Loaded")

    broken.nvmlInit = init  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", broken)
    assert env_module.gpu_info() == ([], "NVML unavailable: Driver Not Loaded")


def test_gpus_as_nvml_reports_them(monkeypatch: pytest.MonkeyPatch) -> None:
    # No GPU on the test box: a stand-in module answering like nvidia-ml-py does.
    fake = types.ModuleType("pynvml")
    calls: list[str] = []
    memory = types.SimpleNamespace(total=85_899_345_920, used=0)
    fake.nvmlInit = lambda: calls.append("init")  # type: ignore[attr-defined]
    fake.nvmlShutdown = lambda: calls.append("shutdown")  # type: ignore[attr-defined]
    fake.nvmlSystemGetDriverVersion = lambda: b"550.54.15"  # type: ignore[attr-defined]
    fake.nvmlSystemGetCudaDriverVersion = lambda: 12040  # type: ignore[attr-defined]
    fake.nvmlDeviceGetCount = lambda: 2  # type: ignore[attr-defined]
    fake.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    fake.nvmlDeviceGetName = lambda h: "NVIDIA H100 80GB HBM3"  # type: ignore[attr-defined]
    fake.nvmlDeviceGetMemoryInfo = lambda h: memory  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    gpus, note = env_module.gpu_info()
    assert note is None
    assert gpus == [
        {
            "index": i,
            "name": "NVIDIA H100 80GB HBM3",
            "memory_total_bytes": 85_899_345_920,
            "driver_version": "550.54.15",
            "cuda_version": "12.4",
        }
        for i in (0, 1)
    ]
    assert calls == ["init", "shutdown"]


def test_packages_from_a_local_folder_are_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, direct in (
        ("Local_Pkg", {"url": "file:///src/local-pkg", "dir_info": {"editable": True}}),
        ("wheel-file", {"url": "file:///tmp/w-1.0-py3-none-any.whl", "archive_info": {}}),
        ("from-git", {"url": "https://example.com/x.git", "vcs_info": {"vcs": "git"}}),
        ("broken", None),
    ):
        info = tmp_path / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Name: {name}\nVersion: 1.0\n", encoding="utf-8")
        if direct is not None:
            (info / "direct_url.json").write_text(json.dumps(direct), encoding="utf-8")
        else:
            (info / "direct_url.json").write_text("{not json", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    local: dict[str, dict[str, object]] = {}
    packages = env_module.installed_packages(local)
    assert {k: packages[k] for k in ("local-pkg", "wheel-file", "from-git", "broken")} == {
        "local-pkg": "1.0",
        "wheel-file": "1.0",
        "from-git": "1.0",
        "broken": "1.0",
    }
    assert {k: v for k, v in local.items() if k in packages and k != "mmtop"} == {
        "local-pkg": {"url": "file:///src/local-pkg", "editable": True},
        "wheel-file": {"url": "file:///tmp/w-1.0-py3-none-any.whl", "editable": False},
    }
