"""Functions' handlers called in this process (the unit tests, the benchmarks): each
functions/<name>/app.py under a module name of its own, since every function has an app.py,
and a context like Lambda's for the Powertools decorators that read one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"


def load_function(name: str, prefix: str = "parley_fn") -> ModuleType:
    """functions/<name>/app.py as `<prefix>_<name>`, once per process, with its directory
    importable while it loads, as Lambda has it (functions/api's routers)."""
    module_name = f"{prefix}_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = FUNCTIONS / name / "app.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    sys.modules[module_name] = module
    return module


class Context:
    """The Lambda context a handler's Powertools decorators read."""

    def __init__(self, function_name: str = "parley-local") -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        )
        self.memory_limit_in_mb = 512
        self.aws_request_id = f"req-{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = function_name

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000
