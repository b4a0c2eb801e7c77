"""Finding Odoo 19.0, odoo-bin command lines and environment, PostgreSQL databases."""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .project import REPO, OdooMissing, WacrmError, say

DEFAULT_ODOO_PATH = "/opt/odoo19"
ODOO_TEST_TIMEOUT = 25 * 60  # the whole install + tests, seconds


@dataclasses.dataclass(frozen=True)
class Odoo:
    path: Path
    version: str

    @property
    def bin(self) -> Path:
        return self.path / "odoo-bin"

    @property
    def addons_path(self) -> str:
        return f"{self.path}/addons,{self.path}/odoo/addons,{REPO}"

    def command(self, db: str, *args: str) -> list[str]:
        # sys.executable: the Python running this tool is the one with Odoo's requirements
        return [sys.executable, str(self.bin), "-d", db, f"--addons-path={self.addons_path}",
                *args]


def find_odoo() -> Odoo:
    """Odoo 19.0 from ODOO_PATH, else /opt/odoo19; raise OdooMissing saying why not."""
    from_env = os.environ.get("ODOO_PATH")
    path = Path(from_env or DEFAULT_ODOO_PATH).expanduser().resolve()
    origin = "ODOO_PATH" if from_env else f"default {DEFAULT_ODOO_PATH} (ODOO_PATH is not set)"
    hint = ("Point ODOO_PATH at an Odoo 19.0 Community source tree (the folder holding "
            "odoo-bin, odoo/ and addons/), e.g. `ODOO_PATH=/opt/odoo19 make test`.")
    if not (path / "odoo-bin").is_file():
        raise OdooMissing(f"Odoo not found: no odoo-bin in {path} ({origin}). {hint}")
    release = path / "odoo" / "release.py"
    try:
        text = release.read_text(encoding="utf-8")
    except OSError as exc:
        raise OdooMissing(f"Odoo at {path}: cannot read odoo/release.py ({exc}). {hint}") from exc
    match = re.search(r"^version_info\s*=\s*\((\d+),\s*(\d+)", text, re.M)
    if not match:
        raise OdooMissing(f"Cannot read version_info from {release}. {hint}")
    version = f"{match[1]}.{match[2]}"
    if version != "19.0":
        raise OdooMissing(f"Odoo at {path} is version {version}, not 19.0 ({origin}). {hint}")
    return Odoo(path, version)


def fernet_key() -> str:
    """A fresh Fernet key (urlsafe base64 of 32 random bytes), without `cryptography`."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def odoo_env(secret_key: str) -> dict[str, str]:
    """Our environment plus the addons' encryption key; unbuffered so logs are live."""
    env = dict(os.environ)
    env["WHATSAPP_CRM_SECRET_KEY"] = secret_key
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# --------------------------------------------------------------------- PostgreSQL

# Database names go into SQL text and dropdb: only plain identifiers are accepted.
DB_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _check_db_name(name: str) -> str:
    if not DB_NAME_RE.match(name):
        raise WacrmError(f"refusing unusual database name {name!r}")
    return name


def pg_available() -> None:
    for tool in ("psql", "dropdb", "pg_isready"):
        if not shutil.which(tool):
            raise WacrmError(f"PostgreSQL client `{tool}` not found in PATH")
    if subprocess.run(["pg_isready", "-q"], check=False).returncode != 0:
        raise WacrmError("PostgreSQL is not accepting connections (pg_isready failed); start it "
                         "(e.g. `pg_ctlcluster 15 main start`) or set PGHOST/PGPORT/PGUSER")


def pg_query(db: str, sql: str) -> str:
    proc = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", db,
                           "-c", sql], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise WacrmError(f"psql on {db} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def pg_db_exists(name: str) -> bool:
    _check_db_name(name)
    return pg_query("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def pg_drop(name: str) -> bool:
    _check_db_name(name)
    proc = subprocess.run(["dropdb", "--if-exists", "--force", name], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        say(f"warning: could not drop database {name}: {proc.stderr.strip()}")
        return False
    return True


def module_states(db: str, modules: Sequence[str]) -> dict[str, str]:
    """{module: state} from ir_module_module; {} when the database cannot be read."""
    names = ",".join(f"'{_check_db_name(m)}'" for m in modules)
    try:
        rows = pg_query(db, f"SELECT name, state FROM ir_module_module WHERE name IN ({names})")
    except WacrmError:
        return {}
    return dict(line.split("|", 1) for line in rows.splitlines() if "|" in line)
