"""The deployment zip (``infra/bundle.py`` after ``chalice package``): bytecode for every module,
the service models of the clients the code creates and no other, under a size bound, the same
bytes from the same inputs; and the packaged code creates its clients from the zip alone."""
from __future__ import annotations

import hashlib
import importlib.util
import marshal
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra.bundle import (
    BOTOCORE_OWN,
    LAMBDA_ROOT,
    allowed_services,
    model_service,
    rebuild,
    services_in_source,
)
from infra.package import POSTER_FONT_SOURCES

ROOT = Path(__file__).resolve().parents[2]
# 27.5 MB with the posters' CJK font (WenQuanYi Micro Hei: 5.2 MB, 2.7 MB zipped);
# 24.8 MB on 2026-12-06 with Pillow for the posters (pillow.libs 5.3 MB, of which libavif 2.2 MB; PIL 2.4 MB);
# 17.0 MB before, with the console (jinja2 0.40 MB, segno 0.18 MB, templates); 15.3 MB before that
ZIP_LIMIT_BYTES = 29_000_000
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
TAG = sys.implementation.cache_tag  # cpython-313: the runtime's, test_package checks python3.13


@pytest.fixture(scope="module")
def out(packaged: tuple[subprocess.CompletedProcess[str], Path]) -> Path:
    done, folder = packaged
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


@pytest.fixture(scope="module")
def names(out: Path) -> set[str]:
    with zipfile.ZipFile(out / "deployment.zip") as z:
        return set(z.namelist())


def pyc_of(source: str) -> str:
    folder, _, file = source.rpartition("/")
    return f"{folder + '/' if folder else ''}__pycache__/{file.removesuffix('.py')}.{TAG}.pyc"


def test_every_module_of_ours_and_of_the_libraries_ships_its_bytecode(names: set[str]) -> None:
    sources = sorted(n for n in names if n.endswith(".py"))
    missing = [s for s in sources if pyc_of(s) not in names]
    assert not missing, missing[:10]
    for prefix in ("app.py", "chalicelib/", "pydantic/", "botocore/", "pynamodb/", "aws_lambda_powertools/",
                   "cryptography/"):
        assert any(s.startswith(prefix) for s in sources), prefix
    assert not [n for n in names if n.endswith(".pyc") and f".{TAG}." not in n]  # no other version's, no -O level


def test_the_bytecode_is_unchecked_hash_for_this_python_with_lambdas_paths(out: Path) -> None:
    with zipfile.ZipFile(out / "deployment.zip") as z:
        for source in ("app.py", "chalicelib/store/conflicts.py", "botocore/client.py"):
            data = z.read(pyc_of(source))
            assert data[:4] == importlib.util.MAGIC_NUMBER, source
            assert int.from_bytes(data[4:8], "little") == 0b01, source  # hash-based, source not checked
            assert data[8:16] == importlib.util.source_hash(z.read(source)), source
            code = marshal.loads(data[16:])  # noqa: S302 -- the bytecode this test's own package built
            assert code.co_filename == f"{LAMBDA_ROOT}/{source}"


def test_only_the_models_of_the_services_the_code_uses_ship(names: set[str]) -> None:
    shipped = {model_service(n) for n in names} - {None}
    assert shipped == set(allowed_services(ROOT))
    assert {"dynamodb", "secretsmanager", "sts"} <= shipped
    assert "botocore/data/endpoints.json" in names and "botocore/data/partitions.json" in names
    assert "botocore/data/sdk-default-configuration.json" in names and "botocore/data/_retry.json" in names


def test_the_zip_is_under_its_size_bound_and_smaller_than_chalices(out: Path) -> None:
    size = (out / "deployment.zip").stat().st_size
    assert size < ZIP_LIMIT_BYTES
    # The dropped service models save ≈ 9.5 MB (with the added bytecode). A bound in bytes, not a
    # ratio: Pillow's libraries and the font, already compressed, are in both zips alike.
    assert (out / "chalice-deployment.zip").stat().st_size - size > 8_000_000


def test_the_same_inputs_give_the_same_zip(out: Path, tmp_path: Path) -> None:
    again = rebuild(out / "chalice-deployment.zip", tmp_path / "again.zip", set(allowed_services(ROOT)), RUNTIME)
    assert hashlib.sha256((tmp_path / "again.zip").read_bytes()).digest() == \
        hashlib.sha256((out / "deployment.zip").read_bytes()).digest()
    assert again.models_after == len(allowed_services(ROOT)) and again.models_before > 400


def test_bytecode_for_another_runtime_is_refused(out: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"python3\.12"):
        rebuild(out / "chalice-deployment.zip", tmp_path / "x.zip", {"dynamodb"}, "python3.12")


CLIENTS = r"""
import sys
sys.path.insert(0, sys.argv[1])
import botocore, botocore.session
assert botocore.__file__.startswith(sys.argv[1]), botocore.__file__
from botocore.exceptions import UnknownServiceError
from chalicelib.bootstrap import Deps
from chalicelib.secrets import provider
from chalicelib.store.tables import all_models
for model in all_models():
    model._get_connection().connection.client
provider()
session = botocore.session.get_session()
for service in sys.argv[2].split(","):
    session.create_client(service, region_name="cn-north-1")
try:
    session.create_client("ec2", region_name="cn-north-1")
except UnknownServiceError:
    print("ec2 unknown")
print("clients ok")
"""


def test_the_packaged_code_creates_every_client_it_uses_from_the_zip_alone(out: Path, tmp_path: Path) -> None:
    """``python -S`` (no site-packages: the zip's libraries only) with the zip unpacked: the
    models' clients, the secrets provider's, and one of every service the source names."""
    with zipfile.ZipFile(out / "deployment.zip") as z:
        z.extractall(tmp_path)
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "cn-north-1",
           "FENXIAO_MODE": "simulator", "JWT_SECRET": "test-secret-test-secret-test-secret-0123",
           "PYTHONDONTWRITEBYTECODE": "1"}
    used = ",".join(sorted(services_in_source(ROOT)))
    done = subprocess.run([sys.executable, "-S", "-c", CLIENTS, str(tmp_path), used], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ec2", "unknown", "clients", "ok"]


# The source scan itself ------------------------------------------------------------------------

def scan(tmp_path: Path, files: dict[str, str]) -> dict[str, str]:
    (tmp_path / "chalicelib").mkdir()
    (tmp_path / "app.py").write_text(files.pop("app.py", ""))
    for name, text in files.items():
        (tmp_path / "chalicelib" / name).write_text(text)
    return services_in_source(tmp_path)


def test_the_scan_finds_clients_by_name_by_provider_and_by_model(tmp_path: Path) -> None:
    found = scan(tmp_path, {
        "app.py": "import boto3\nq = boto3.client('sqs')\n",
        "a.py": 's = session.client(service_name="s3", config=c)\nr = boto3.resource("dynamodb")\n',
        "b.py": "from aws_lambda_powertools.utilities.parameters import SSMProvider\n",
        "c.py": "class Item(StoreModel):\n    pass\n",
        "d.py": "http.client.HTTPConnection('host')  # not an AWS client\n",
    })
    assert found == {"sqs": "app.py", "s3": "chalicelib/a.py", "dynamodb": "chalicelib/a.py",
                     "ssm": "chalicelib/b.py"}


def test_the_scan_of_our_code_finds_the_tables_and_the_secret() -> None:
    assert set(services_in_source(ROOT)) >= {"dynamodb", "secretsmanager"}
    assert set(allowed_services(ROOT)) == set(services_in_source(ROOT)) | set(BOTOCORE_OWN)


@pytest.mark.parametrize(("name", "service"), [
    ("botocore/data/dynamodb/2012-08-10/service-2.json.gz", "dynamodb"),
    ("boto3/data/sqs/2012-11-05/resources-1.json", "sqs"),
    ("botocore/data/endpoints.json", None),
    ("botocore/client.py", None),
    ("chalicelib/store/base.py", None),
])
def test_a_zip_entry_is_a_model_of_its_service_or_of_none(name: str, service: Any) -> None:
    assert model_service(name) == service


def test_the_consoles_templates_and_assets_ship_in_the_bundle(names: set[str]) -> None:
    """The console renders from the function's own files: templates, our CSS and the npm lock's
    htmx (copied by `make`; docs/console.md), none fetched at run time."""
    console = "chalicelib/web/console"
    assert {f"{console}/static/htmx.min.js", f"{console}/static/console.css", f"{console}/templates/base.html",
            f"{console}/templates/login.html"} <= names


def test_the_posters_cjk_font_ships_at_the_zips_root(names: set[str]) -> None:
    if not any(Path(p).is_file() for p in POSTER_FONT_SOURCES):
        pytest.skip("no CJK font on this machine to ship (apt-get install fonts-wqy-microhei)")
    assert "fonts/poster.ttc" in names  # /var/task/fonts/poster.ttc: poster_canvas.FONT_CANDIDATES[0]
