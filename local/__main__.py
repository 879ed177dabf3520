"""`python -m local up`: the whole stack on this machine, with a demo workspace.

Ports come from flags, then PARLEY_HTTP_PORT / PARLEY_WS_PORT / PARLEY_AWS_PORT /
PARLEY_WEB_PORT, then the defaults (3000, 3001, 3002, 3003); a taken port falls back to a
free one. The web client (web/dist, `make web`) is served on the web port where it is built.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from local.aws import MotoStartError
from local.search_node import SearchStartError, search_services
from local.seed import DEMO_USERS, SeedError, seed_demo
from local.stack import DEFAULT_PASSWORD, PROJECT_ROOT, Stack, StackConfig
from local.template import TemplateError
from local.web import WebBuildMissing, WebServer, web_config

log = logging.getLogger("local")


def _port(value: str | None, default: int) -> int:
    return int(value) if value else default


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="run the stack until Ctrl-C")
    env = os.environ
    up.add_argument("--http-port", type=int, default=_port(env.get("PARLEY_HTTP_PORT"), 3000))
    up.add_argument("--ws-port", type=int, default=_port(env.get("PARLEY_WS_PORT"), 3001))
    up.add_argument("--aws-port", type=int, default=_port(env.get("PARLEY_AWS_PORT"), 3002))
    up.add_argument("--web-port", type=int, default=_port(env.get("PARLEY_WEB_PORT"), 3003))
    up.add_argument("--search-port", type=int, default=_port(env.get("PARLEY_SEARCH_PORT"), 9200))
    up.add_argument("--template", type=Path, default=PROJECT_ROOT / "template.yaml")
    up.add_argument("--state-dir", type=Path, default=PROJECT_ROOT / ".local")
    up.add_argument(
        "--max-workers",
        type=int,
        default=None,
        help="workers per function without ReservedConcurrentExecutions "
        "(default: 8 per core, 8 to 32)",
    )
    up.add_argument("--no-seed", action="store_true", help="skip the demo users and workspace")
    up.add_argument("--verbose", action="store_true", help="debug logs from the runtime")
    return parser.parse_args(argv)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def up(arguments: argparse.Namespace) -> int:
    """Runs the stack until Ctrl-C; the exit status."""
    config = StackConfig(
        template=arguments.template,
        state_dir=arguments.state_dir,
        http_port=arguments.http_port,
        ws_port=arguments.ws_port,
        aws_port=arguments.aws_port,
        services=search_services(port=arguments.search_port),
    )
    if arguments.max_workers is not None:
        config = dataclasses.replace(config, max_workers_per_function=arguments.max_workers)
    stack, status = Stack(config), 0
    web_server: WebServer | None = None
    # stack.json exists while the stack runs: clients never find a stale one.
    stack_file = config.state_dir / "stack.json"
    stack_file.unlink(missing_ok=True)
    try:
        log.info("starting the local stack...")
        stack.start()
        description = stack.describe()
        if not arguments.no_seed:
            description["demo"] = {
                "password": DEFAULT_PASSWORD,
                "users": list(DEMO_USERS),
                "workspaceId": seed_demo(stack),
            }
        try:
            web_server = WebServer(web_config(description), port=arguments.web_port).start()
            description["webUrl"] = web_server.url
        except WebBuildMissing as missing:
            log.warning("%s; the stack runs without it", missing)
        stack_file.parent.mkdir(parents=True, exist_ok=True)
        stack_file.write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
        _announce(description, stack_file)
        threading.Event().wait()  # until Ctrl-C or SIGTERM
    except KeyboardInterrupt:
        log.info("stopping...")
    except (TemplateError, MotoStartError, SeedError, SearchStartError) as error:
        log.error("%s", error)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        stack_file.unlink(missing_ok=True)
        if web_server:
            web_server.stop()
        stack.stop()
    log.info("stopped")
    return status


def _announce(description: dict[str, object], stack_file: Path) -> None:
    lines = [
        "",
        f"  HTTP API       {description['httpUrl']}",
        f"  WebSocket API  {description['wsUrl']}",
        f"  AWS (moto)     {description['cognito']['endpoint']}",  # type: ignore[index]  # the stack description is JSON, its members untyped
        f"  stack file     {stack_file}",
    ]
    if description.get("webUrl"):
        lines.insert(1, f"  web client     {description['webUrl']}")
    demo = description.get("demo")
    if isinstance(demo, dict):
        lines += [
            f"  demo logins    {', '.join(demo['users'])} / password {demo['password']}",
            f"  demo workspace {demo['workspaceId']}",
        ]
    lines += ["", "  Ctrl-C stops the stack.", ""]
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> None:
    arguments = _arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if arguments.verbose else logging.INFO,
        format="%(asctime)s %(levelname).1s %(message)s",
        datefmt="%H:%M:%S",
    )
    # botocore and moto's clients chatter at INFO/DEBUG; the stack's own story is enough.
    for noisy in ("botocore", "boto3", "urllib3", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    sys.exit(up(arguments))


if __name__ == "__main__":
    main()
