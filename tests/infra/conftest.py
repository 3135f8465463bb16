"""The prod package, built once for the tests of tests/infra that read it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``python -m infra.package --stage prod --strict --keep-raw``: its run and its output folder
    (``sam.json``, ``deployment.zip`` and chalice's own ``chalice-deployment.zip``)."""
    out = tmp_path_factory.mktemp("package")
    done = subprocess.run(
        [sys.executable, "-m", "infra.package", "--stage", "prod", "--out", str(out), "--region", "cn-north-1",
         "--strict", "--keep-raw"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    return done, out
