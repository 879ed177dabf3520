"""Parley's local runtime: the template's AWS resources in moto, its functions in worker
processes, API Gateway's HTTP and WebSocket APIs, and the event source pollers.
See docs/local-runtime.md."""
