"""Every Lambda function imports ``app`` at cold start: the heavy libraries must load only in
the requests that use them (DESIGN.md "Cold start"). Structural, not timed: `make bench` times it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = {"pynamodb", "botocore", "boto3", "cryptography", "jwt", "aws_xray_sdk"}


def test_importing_the_app_loads_no_heavy_library():
    probe = "import json, sys, app; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2],
                            env={"FENXIAO_MODE": "simulator", "PATH": "/usr/bin:/bin"})
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not loaded & HEAVY, f"imported at cold start: {sorted(loaded & HEAVY)}"
