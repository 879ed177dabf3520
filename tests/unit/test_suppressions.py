"""A suppression carries its reason on the same line (STYLE.md, point 8): every
`# type: ignore` names its error code and says why, as `# type: ignore[code]  # reason`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IGNORE = re.compile(r"#\s*type:\s*ignore")
SOURCES = ("layers", "functions", "local", "bench", "examples", "tests")
WITH_REASON = re.compile(r"#\s*type:\s*ignore\[[a-z0-9-]+(?:,\s*[a-z0-9-]+)*\]\s+#\s*\S")


def unexplained(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines if IGNORE.search(line) and not WITH_REASON.search(line)]


def test_every_type_ignore_has_its_code_and_reason() -> None:
    sources = [
        path
        for folder in SOURCES
        for path in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in path.parts and path != Path(__file__).resolve()
    ]
    found = {
        str(path.relative_to(ROOT)): bad
        for path in sources
        if (bad := unexplained(path.read_text().splitlines()))
    }
    assert found == {}


def test_the_check_tells_a_reason_from_none() -> None:
    assert unexplained(
        [
            "x = f()  # type: ignore[arg-type]  # the fake plays the client",
            "y = g()  # type: ignore[arg-type]",
            "z = h()  # type: ignore",
        ]
    ) == ["y = g()  # type: ignore[arg-type]", "z = h()  # type: ignore"]
