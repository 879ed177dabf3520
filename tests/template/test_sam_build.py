"""`sam build` of the real template (python3.12, arm64, no container): what it produces."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfn_template import ROOT, Template, functions, handler_location
from layer_checks import (
    elf_machine,
    foreign_native_extensions,
    installed_distributions,
    pins_for_lambda,
)

# A cold `sam build` downloads every arm64 wheel; on a loaded machine that outlasts the
# suite's 300 s default (the build itself is bounded at 900 s in conftest.py).
pytestmark = pytest.mark.timeout(1200)

LAYER = "ParleyLayer"
REQUIREMENTS = ROOT / "layers" / "parley" / "requirements.txt"

# The start of an ELF header: 64-bit little-endian, and e_machine at offset 18.
ELF_X86_64 = b"\x7fELF\x02\x01\x01" + b"\x00" * 11 + (0x3E).to_bytes(2, "little")
ELF_AARCH64 = b"\x7fELF\x02\x01\x01" + b"\x00" * 11 + (0xB7).to_bytes(2, "little")


@pytest.mark.sam_build
def test_sam_build_puts_every_function_handler_module_in_the_build(
    sam_build: Path, template: Template
) -> None:
    missing = [
        f"{name}/{handler_location(template, name)[0]}"
        for name in functions(template)
        if not (sam_build / name / handler_location(template, name)[0]).is_file()
    ]
    assert missing == []


@pytest.mark.sam_build
def test_built_layer_contains_the_parley_package(sam_build: Path) -> None:
    assert (sam_build / LAYER / "python" / "parley" / "__init__.py").is_file()


@pytest.mark.sam_build
def test_built_layer_installs_every_pinned_requirement_at_its_version(sam_build: Path) -> None:
    installed = installed_distributions(sam_build / LAYER / "python")
    wanted = pins_for_lambda(REQUIREMENTS.read_text())
    wrong = {name: installed.get(name) for name, v in wanted.items() if installed.get(name) != v}
    assert wrong == {}, f"want {wanted}"


@pytest.mark.sam_build
def test_built_layer_native_extensions_are_arm64(sam_build: Path) -> None:
    site = sam_build / LAYER / "python"
    # pydantic-core and cryptography ship compiled code: without them this test proves nothing.
    assert list(site.glob("pydantic_core/_pydantic_core*.so"))
    assert list(site.glob("cryptography/hazmat/bindings/_rust*.so"))
    assert foreign_native_extensions(site) == []


def test_arm64_check_catches_an_x86_64_extension(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "good.cpython-312-aarch64-linux-gnu.so").write_bytes(ELF_AARCH64)
    (tmp_path / "pkg" / "bad.cpython-312-x86_64-linux-gnu.so").write_bytes(ELF_X86_64)
    (tmp_path / "pkg" / "libz.so.1").write_bytes(ELF_X86_64)
    (tmp_path / "pkg" / "notes.sorted.txt").write_text("not a shared object")
    assert elf_machine(tmp_path / "pkg" / "good.cpython-312-aarch64-linux-gnu.so") == "aarch64"
    assert foreign_native_extensions(tmp_path) == [
        "pkg/bad.cpython-312-x86_64-linux-gnu.so: x86_64",
        "pkg/libz.so.1: x86_64",
    ]
