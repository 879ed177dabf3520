"""The layer's pins against uv.lock, and what `sam build` put into the layer."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement

# The Lambda runtime the layer is built for, as PEP 508 markers see it.
LAMBDA_MARKERS = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
    "python_version": "3.12",
    "python_full_version": "3.12.0",
}

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)\s*(?:;\s*(.+))?$")

_SHARED_OBJECT = re.compile(r"\.so(\.\d+)*$")

ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(text: str) -> dict[str, tuple[str, str | None]]:
    """requirements.txt -> {name: (version, marker)}; every requirement must be `name==version`."""
    pins: dict[str, tuple[str, str | None]] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = _PIN.match(line)
        if match is None:
            raise ValueError(f"line {number}: {line!r} is not an exact pin (name==version)")
        name = normalize(match[1])
        if name in pins:
            raise ValueError(f"line {number}: {name} is pinned twice")
        pins[name] = (match[2], match[3])
    return pins


def _packages(lock: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        found.setdefault(normalize(package["name"]), []).append(package)
    return found


def locked_runtime_closure(lock: dict[str, Any], project: str) -> dict[str, str]:
    """{name: version} of everything the project's [project] dependencies pull in, dev
    groups left out, as uv.lock resolves it."""
    packages = _packages(lock)
    (root,) = packages[normalize(project)]
    closure: dict[str, str] = {}
    pending: list[dict[str, Any]] = list(root.get("dependencies", []))
    while pending:
        dependency = pending.pop()
        name = normalize(dependency["name"])
        candidates = packages[name]
        if "version" in dependency:
            candidates = [p for p in candidates if p["version"] == dependency["version"]]
        (package,) = candidates
        extras = dependency.get("extra", [])
        seen = closure.get(name) == package["version"]
        closure[name] = package["version"]
        if not seen:
            pending.extend(package.get("dependencies", []))
        for extra in extras:
            pending.extend(package.get("optional-dependencies", {}).get(extra, []))
    return closure


def pin_drift(requirements_text: str, lock_text: str, project: str = "parley") -> list[str]:
    """How requirements.txt differs from uv.lock's runtime closure: one sentence each."""
    pins = parse_pins(requirements_text)
    locked = locked_runtime_closure(tomllib.loads(lock_text), project)
    problems = []
    for name, version in sorted(locked.items()):
        if name not in pins:
            problems.append(f"{name}=={version} is locked but not pinned")
        elif pins[name][0] != version:
            problems.append(f"{name} is pinned {pins[name][0]} but locked {version}")
    problems.extend(
        f"{name}=={pins[name][0]} is pinned but not a locked runtime dependency"
        for name in sorted(set(pins) - set(locked))
    )
    return problems


def unsatisfied_project_dependencies(requirements_text: str, pyproject_text: str) -> list[str]:
    """pyproject's [project] dependencies that the pins leave out or do not satisfy."""
    pins = parse_pins(requirements_text)
    problems = []
    for line in tomllib.loads(pyproject_text)["project"]["dependencies"]:
        requirement = Requirement(line)
        pinned = pins.get(normalize(requirement.name))
        if pinned is None:
            problems.append(f"{line}: not pinned")
        elif not requirement.specifier.contains(pinned[0], prereleases=True):
            problems.append(f"{line}: pinned {pinned[0]}")
    return problems


def pins_for_lambda(requirements_text: str) -> dict[str, str]:
    """The pins that apply on the Lambda runtime (their markers hold there)."""
    return {
        name: version
        for name, (version, marker) in parse_pins(requirements_text).items()
        if marker is None or Marker(marker).evaluate(LAMBDA_MARKERS)
    }


def installed_distributions(site: Path) -> dict[str, str]:
    """{name: version} of the *.dist-info directories in an installed tree."""
    found = {}
    for info in site.glob("*.dist-info"):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        found[normalize(name)] = version
    return found


def elf_machine(path: Path) -> str:
    """The CPU a shared object is built for, from its ELF header (e_machine at offset 18)."""
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return "not ELF"
    byteorder = "little" if header[5] == 1 else "big"
    machine = int.from_bytes(header[18:20], byteorder)
    return ELF_MACHINES.get(machine, f"machine {machine:#x}")


def foreign_native_extensions(site: Path, machine: str = "aarch64") -> list[str]:
    """Shared objects under `site` that are not built for `machine`."""
    return [
        f"{path.relative_to(site)}: {found}"
        for path in sorted(site.rglob("*.so*"))
        if _SHARED_OBJECT.search(path.name)
        and path.is_file()
        and (found := elf_machine(path)) != machine
    ]
