"""What a run records about itself without being asked: environment, code, system, console.

Each capture stands alone and is called by store.Run at run start (env, code) or for the run's
life (system sampler, console tee).
"""

from mmtop.store.capture.code import collect_code, looks_secret, redact_argv, strip_url_credentials
from mmtop.store.capture.console import ConsoleCapture, read_console
from mmtop.store.capture.env import collect_env
from mmtop.store.capture.system import SystemSampler

__all__ = [
    "ConsoleCapture",
    "SystemSampler",
    "collect_code",
    "collect_env",
    "looks_secret",
    "read_console",
    "redact_argv",
    "strip_url_credentials",
]
