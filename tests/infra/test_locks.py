"""The dependency locks: requirements.txt (what chalice packages, what `make audit` checks) and
requirements-dev.txt (what `make venv` installs with --require-hashes) are compiled by `make lock`
from the .in files; these tests catch a hand edit or a lock that was not regenerated."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Name → (version, hashes) of a compiled lock; a requirement without == fails."""
    text = (ROOT / path).read_text().replace("\\\n", " ")
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"{path}: not an exact pin: {line[:80]}"
        pins[normalized(match[1])] = (match[3], re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return pins


def direct(path: Path) -> dict[str, str]:
    """Name → version of the pins an .in file states itself (not its -r / -c lines)."""
    pins = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            match = PIN.match(line)
            assert match, f"{path}: pin the direct dependency exactly: {line}"
            pins[normalized(match[1])] = match[3]
    return pins


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt"])
def test_every_pin_of_a_lock_is_exact_and_hashed(lock: str) -> None:
    pins = requirements(Path(lock))
    assert pins
    assert [name for name, (_, hashes) in pins.items() if not hashes] == []


@pytest.mark.parametrize(("source", "lock"), [("requirements.in", "requirements.txt"),
                                              ("requirements-dev.in", "requirements-dev.txt")])
def test_a_lock_holds_every_direct_dependency_at_its_stated_version(source: str, lock: str) -> None:
    pins = requirements(Path(lock))
    assert {name: pins.get(name, ("missing",))[0] for name in direct(Path(source))} == direct(Path(source))


def test_the_venv_gets_the_runtime_pins_at_the_versions_that_ship() -> None:
    runtime, dev = requirements(Path("requirements.txt")), requirements(Path("requirements-dev.txt"))
    assert {name: dev.get(name, ("missing",))[0] for name in runtime} == {name: v for name, (v, _) in runtime.items()}
