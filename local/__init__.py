"""Parley's local runtime: the template's AWS resources in moto, its functions in worker
processes, API Gateway's HTTP and WebSocket APIs, and the event source pollers.
See docs/local-runtime.md."""

import sys
from pathlib import Path

# The HTTP API's JWT authorizer verifies tokens with the layer's verifier (`parley.*`, as the
# `$connect` authorizer does), so the layer is importable here as pytest's pythonpath has it.
_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "parley")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
