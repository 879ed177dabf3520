"""The rooms' doors (STYLE.md): the domain knows no table, no AWS client and no wiring.

Every module of `parley.domain` (and the search service, which is domain code over the
index) is read as source, lazy imports inside functions included, and may not import
pynamodb, boto3, botocore, opensearch-py, an adapter (`parley.adapters`, where every item
class and key string lives) or the composition root (`parley.wiring`). The domain reaches
the world through `parley.domain.ports`, whose protocols the adapters implement.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[2] / "layers" / "parley"
DOMAIN = sorted(
    [*(LAYER / "parley" / "domain").rglob("*.py"), LAYER / "parley" / "search" / "service.py"]
)
# The table's key prefixes (docs/data-model.md): `CH#`, `MSG#`, `USER#`, `THREAD#`...
KEY_PREFIX = re.compile(r"^[A-Z][A-Z_]*#")
FORBIDDEN = ("pynamodb", "boto3", "botocore", "opensearchpy", "parley.adapters", "parley.wiring")


def _modules() -> list[object]:
    return [pytest.param(path, id=str(path.relative_to(LAYER))) for path in DOMAIN]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def forbidden_in(path: Path) -> list[str]:
    return sorted(
        module
        for module in imported_modules(path)
        if any(module == f or module.startswith(f + ".") for f in FORBIDDEN)
    )


@pytest.mark.parametrize("path", _modules())
def test_a_domain_module_imports_no_table_client_or_adapter(path: Path) -> None:
    assert forbidden_in(path) == []


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "def later():\n    from parley.adapters.dynamodb.items import MessageItem\n"
        "    import boto3\n"
    )
    assert forbidden_in(source) == [
        "boto3",
        "parley.adapters.dynamodb.items",
        "parley.adapters.dynamodb.items.MessageItem",
    ]


def key_strings_in(path: Path) -> list[str]:
    """String literals (f-string parts included) that start like a table key."""
    tree = ast.parse(path.read_text(), str(path))
    return sorted(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and KEY_PREFIX.match(node.value)
    )


@pytest.mark.parametrize("path", _modules())
def test_a_domain_module_builds_no_table_key(path: Path) -> None:
    assert key_strings_in(path) == []


def test_the_key_check_sees_an_f_string_key(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text('def key(cid):\n    return f"CH#{cid}", "META"\n')
    assert key_strings_in(source) == ["CH#"]
