"""Package a stage for CloudFormation: ``python -m infra.package [--stage prod] [--out out/]``.

1. reads the stage from ``.chalice/config.json`` (environment, tracing);
2. builds, in a throw-away directory, a copy of what ships (``app.py``, ``chalicelib/``,
   ``requirements.txt``), the functions' IAM policy ``.chalice/policy-<stage>.json`` and a merge
   template with every table, all generated from the models (nothing generated is committed),
   and the API Gateway's own error answers in our shape (``infra/gateway.py``);
3. runs ``chalice package --merge-template`` there and writes ``sam.json`` and
   ``deployment.zip`` to the output directory, the zip rebuilt by ``infra/bundle.py``: bytecode
   precompiled for the runtime, and only the AWS service models whose clients the code creates
   (``--keep-raw`` also keeps chalice's own zip as ``chalice-deployment.zip``);
4. lints ``sam.json`` with cfn-lint for the target region and exits non-zero on errors
   (``--strict``: on warnings too).

The result deploys with ``aws cloudformation package`` + ``deploy`` (see docs/deploy.md). No AWS
call is made here; pip fetches the Lambda (manylinux) wheels of requirements.txt.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from infra.bundle import allowed_services, rebuild
from infra.gateway import add_gateway_responses
from infra.media import media_resources
from infra.template import (
    WORKER,
    fix_log_group_refs,
    jobs_queue_name,
    lambda_policy,
    merge_template,
    queue_resources,
    stage_config,
    table_resources,
)

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_FILES = ("app.py", "requirements.txt")
SHIPPED_DIRS = ("chalicelib", "vendor")
DEFAULT_REGION = "cn-north-1"
# Neither chalice nor cfn-lint can be run with ``-m``: call their console entry points in this
# interpreter (the venv's), whatever scripts are or are not on PATH.
CHALICE = "import sys; from chalice.cli import main; sys.exit(main())"
CFN_LINT = "import sys; from cfnlint.runner import main; sys.exit(main())"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="prod", help="chalice stage (default: prod)")
    parser.add_argument("--out", type=Path, default=ROOT / "out", help="output directory (default: out/)")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")
                        or DEFAULT_REGION, help="target region, for chalice and cfn-lint (default: $AWS_DEFAULT_REGION "
                        f"or {DEFAULT_REGION})")
    parser.add_argument("--strict", action="store_true", help="fail on cfn-lint warnings too")
    parser.add_argument("--allow-simulator", action="store_true",
                        help="package a stage whose FENXIAO_MODE is not live (its dev routes log anyone in)")
    parser.add_argument("--keep-raw", action="store_true",
                        help="also write chalice's own zip, before infra/bundle.py, as chalice-deployment.zip")
    parser.add_argument("-v", "--verbose", action="store_true", help="show chalice's output")
    return parser.parse_args(argv)


def copy_project(build: Path) -> None:
    """What chalice packages, and nothing else (no caches, tests or venv)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for name in SHIPPED_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, build / name)
    for name in SHIPPED_DIRS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, build / name, ignore=ignore)
    (build / ".chalice").mkdir()
    shutil.copy2(ROOT / ".chalice" / "config.json", build / ".chalice" / "config.json")


# The posters' CJK font (docs/posters.md "Fonts"), from the packaging machine: Debian's
# fonts-wqy-microhei (Apache-2.0 or GPLv3 with the font exception). Chalice puts ``vendor/`` at
# the zip's root, so it reaches Lambda as /var/task/fonts/poster.ttc.
POSTER_FONT_SOURCES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",)
POSTER_FONT_TARGET = Path("vendor") / "fonts" / "poster.ttc"


def ship_poster_font(build: Path, sources: tuple[str, ...] = POSTER_FONT_SOURCES) -> Path | None:
    """Copy the first font of ``sources`` present into the build as the posters' font; None
    when there is none (the posters would draw Chinese as boxes: the caller warns)."""
    source = next((Path(s) for s in sources if Path(s).is_file()), None)
    if source is None:
        return None
    target = build / POSTER_FONT_TARGET
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    return source


def write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")


def run(code: str, args: list[str], region: str, cwd: Path,
        extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_DEFAULT_REGION": region, **(extra_env or {})}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,  # noqa: S603 -- this interpreter and our own arguments, no shell
                          check=False)


def check_settings(env: dict[str, str]) -> None:
    """Validate the stage's settings as the functions will at start-up (business rules included),
    with well-formed stand-ins for what the secret (``FENXIAO_SECRET_ID``) holds; refuse an
    environment that carries a credential or a dynamic reference to one (anyone who may read the
    function's configuration would read it). Raises ValueError."""
    from chalicelib.config import settings_from_env
    from chalicelib.secrets import CREDENTIAL_KEYS, SECRET_ID_VAR, SECRET_KEYS

    exposed = sorted({k for k in env if k in CREDENTIAL_KEYS} | {k for k, v in env.items() if "{{resolve:" in v})
    if exposed:
        raise ValueError(f"the functions' environment would show {', '.join(exposed)}: put them in the secret "
                         f"{SECRET_ID_VAR} names (docs/deploy.md)")
    stand_ins = {key: _stand_in(key) for key in SECRET_KEYS} if env.get(SECRET_ID_VAR) else {}
    settings_from_env({**stand_ins, **env})


def _stand_in(key: str) -> str:
    """A well-formed value for a key the secret holds: a URL for the URLs and base URLs the
    secret may carry (WECHAT_PAY_NOTIFY_URL, KUAIDI100_CALLBACK_BASE), else a long token."""
    if key.endswith(("_URL", "_BASE")):
        return "https://stand-in.invalid"
    return "stand-in-" + "x" * 40


def check_layers(layers: list[str], region: str) -> None:
    """A Lambda layer is regional: refuse one published in another region than the target's (the
    ADOT layer's ARN differs per region: docs/ops.md "Tracing"). Raises ValueError."""
    elsewhere = [arn for arn in layers if arn.split(":")[3:4] != [region]]
    if elsewhere:
        raise ValueError(f"layers not in {region}: {', '.join(elsewhere)}; set the stage's layers for that region")


def package(args: argparse.Namespace) -> tuple[int, str]:
    """Build sam.json and deployment.zip into args.out. Returns (exit code, summary)."""
    from chalicelib.store.tables import all_models

    config_from_disk = json.loads((ROOT / ".chalice" / "config.json").read_text())
    config = stage_config(config_from_disk, args.stage)
    env = config.environment_variables
    if env.get("FENXIAO_MODE") != "live" and not args.allow_simulator:
        return 2, f"stage {args.stage!r} runs FENXIAO_MODE={env.get('FENXIAO_MODE')!r}; pass --allow-simulator to package it"
    if config.autogen_policy is not False:
        return 2, f"stage {args.stage!r} must set autogen_policy: false (infra/ writes the policy)"
    check_settings(env)
    check_layers(config.layers or [], args.region)
    tables = table_resources(all_models(), env, args.stage)
    queue = jobs_queue_name(config_from_disk.get("app_name", "fenxiao"), args.stage)
    worker_timeout = stage_config(config_from_disk, args.stage, WORKER).lambda_timeout or 60
    queues = queue_resources(queue, worker_timeout)
    media = media_resources(args.region, env.get("MEDIA_BASE_URL", ""), env.get("MEDIA_CERTIFICATE", ""))

    with tempfile.TemporaryDirectory(prefix="fenxiao-package-") as tmp:
        build, chalice_out = Path(tmp) / "project", Path(tmp) / "package"
        build.mkdir()
        copy_project(build)
        font = ship_poster_font(build)
        if font is None:
            sys.stderr.write("warning: no CJK font for the posters on this machine (apt-get install "
                             "fonts-wqy-microhei); deployed posters would draw Chinese as boxes\n")
        policy_file = config.iam_policy_file or f"policy-{args.stage}.json"
        policy = lambda_policy(tables, xray=bool(config.xray_enabled), secret_id=env.get("FENXIAO_SECRET_ID"))
        write_json(build / ".chalice" / policy_file, policy)
        merged = merge_template(tables, queues, media, env.get("MEDIA_BASE_URL", ""))
        write_json(Path(tmp) / "merge-template.json", add_gateway_responses(merged))
        done = run(CHALICE, ["--project-dir", str(build), "package", "--stage", args.stage,
                             "--merge-template", str(Path(tmp) / "merge-template.json"), str(chalice_out)],
                   args.region, build, {"JOBS_QUEUE": queue})
        if args.verbose or done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
        if done.returncode != 0:
            return 1, f"chalice package failed (exit {done.returncode})"
        template = json.loads((chalice_out / "sam.json").read_text())
        fix_log_group_refs(template)
        args.out.mkdir(parents=True, exist_ok=True)
        write_json(args.out / "sam.json", template)
        functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
        [runtime] = {f["Properties"]["Runtime"] for f in functions.values()}
        bundle = rebuild(chalice_out / "deployment.zip", args.out / "deployment.zip", set(allowed_services(ROOT)),
                         runtime)
        if args.keep_raw:
            shutil.copy2(chalice_out / "deployment.zip", args.out / "chalice-deployment.zip")

    return 0, (f"{len(tables)} tables, functions {', '.join(sorted(functions))}, deployment.zip "
               f"{bundle.bytes_after / 1e6:.1f} MB (chalice's {bundle.bytes_before / 1e6:.1f} MB; poster font "
               f"{font.name if font else 'none'}; service models "
               f"{bundle.models_after} of {bundle.models_before}, {bundle.compiled} modules precompiled) "
               f"-> {args.out / 'sam.json'}")


def lint(sam: Path, region: str, strict: bool) -> tuple[int, str]:
    """cfn-lint the template; (exit code, counts). cfn-lint's exit status is a bit mask:
    2 errors, 4 warnings, 8 informational; anything else means it could not lint."""
    done = run(CFN_LINT, ["--regions", region, "--format", "parseable", "--", str(sam)], region, ROOT)
    findings = [line for line in done.stdout.splitlines() if line.strip()]
    for line in findings:
        print(line)
    rules = [line.split(":")[5] if line.count(":") >= 6 else "E?" for line in findings]
    errors = sum(r.startswith("E") for r in rules)
    warnings = sum(r.startswith("W") for r in rules)
    failed = done.returncode & ~(4 | 8) or (strict and done.returncode & 4)
    if done.returncode & ~(2 | 4 | 8):
        sys.stderr.write(done.stderr)
    return (1 if failed else 0), f"cfn-lint {region}: {errors} errors, {warnings} warnings"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        code, summary = package(args)
    except ValueError as exc:  # an unknown stage, a table no setting names, invalid settings
        code, summary = 2, " ".join(str(exc).split())
    if code != 0:
        print(f"package {args.stage}: FAILED: {summary}")
        return code
    lint_code, lint_summary = lint(args.out / "sam.json", args.region, args.strict)
    status = "ok" if lint_code == 0 else "FAILED"
    print(f"package {args.stage}: {status}: {summary}; {lint_summary} ({time.monotonic() - started:.0f} s)")
    return lint_code


if __name__ == "__main__":
    sys.exit(main())
