"""The ``deps`` command: install what the commands need into the Python running this tool.

Two pip runs, logged to artifacts/pip-install.log:

1. ours: requirements.txt and requirements-dev.txt (which installs the simulator,
   ``-e ./simulator``, so it runs from the repository root);
2. when Odoo 19.0 is found, Odoo's own requirements.txt, under PIP_CONSTRAINT
   (``setuptools<70``; through the environment it also reaches the isolated build
   environments of the packages pip builds from source, psycopg2 and python-ldap).
   Run 1 is not constrained so: the simulator builds with setuptools >= 77.

Then it checks that gevent can patch: the gevent process of a prefork Odoo server
(``--workers``, serving ``/websocket``) starts with ``gevent.monkey.patch_all()``,
whose plugin loader (pkg_resources) resolves gevent's requirements by their
dist-info names (see the zope pins in requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from .odoo import find_odoo
from .processes import log_tail
from .project import ARTIFACTS, REPO, OdooMissing, WacrmError, say

OUR_REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
# For Odoo's requirements: its gevent 22.10 (Python 3.11) imports pkg_resources, and
# its older pins were checked building with these.
ODOO_CONSTRAINTS = ("setuptools<70",)

# What Odoo's gevent process does first; it crash-loops when this fails.
GEVENT_CHECK = "from gevent import monkey; monkey.patch_all()"

# Debian packages whose absence shows in a failed build of psycopg2 or python-ldap
BUILD_HINTS = (
    ("pg_config", "libpq-dev"),
    ("libpq-fe.h", "libpq-dev"),
    ("lber.h", "libldap2-dev"),
    ("ldap.h", "libldap2-dev"),
    ("sasl.h", "libsasl2-dev"),
    ("command 'gcc' failed", "gcc"),
    ("'gcc': No such file", "gcc"),
    ("Python.h", "python3-dev"),
)
EDITABLE_RE = re.compile(r"^\s*-e\s+(\S+)", re.M)
LOG_PATH = ARTIFACTS / "pip-install.log"


def odoo_requirements() -> Path | None:
    try:
        odoo = find_odoo()
    except OdooMissing as exc:
        say(f"note: {exc}")
        say("      installing the project's requirements only")
        return None
    path = odoo.path / "requirements.txt"
    if not path.is_file():
        say(f"note: no {path}; Odoo's requirements are not installed")
        return None
    return path


def stamp_path(files: list[Path]) -> Path:
    """A file in this Python's prefix (the venv) telling that files were installed in it.

    Named after the files' paths and contents (and the metadata of the projects they
    install in editable mode) and the constraints: changing any of them, or a new venv,
    installs again.
    """
    digest = hashlib.sha256("\n".join(ODOO_CONSTRAINTS).encode())
    for path in files:
        text = path.read_bytes()
        digest.update(str(path).encode() + b"\0" + text)
        for editable in EDITABLE_RE.findall(text.decode(errors="replace")):
            for meta in ("pyproject.toml", "setup.cfg", "setup.py"):
                with contextlib.suppress(OSError):
                    digest.update((REPO / editable / meta).read_bytes())
    return Path(sys.prefix) / f".wacrm-deps-{digest.hexdigest()[:16]}"


def pip_install(files: list[Path], constraints: tuple[str, ...] = ()) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet"]
    for path in files:
        cmd += ["-r", str(path)]
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    shown = " -r ".join(str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)
                        for p in files)
    say(f"== deps: pip install -r {shown}"
        + (f"  (constraints: {', '.join(constraints)})" if constraints else ""))
    constraint_file = None
    if constraints:
        with tempfile.NamedTemporaryFile("w", prefix="wacrm-constraints-", suffix=".txt",
                                         delete=False) as handle:
            handle.write("\n".join(constraints) + "\n")
        constraint_file = handle.name
        # pip splits PIP_CONSTRAINT on whitespace: a constraint file of the caller's is kept
        env["PIP_CONSTRAINT"] = " ".join(filter(None, (os.environ.get("PIP_CONSTRAINT"),
                                                       constraint_file)))
    try:
        with open(LOG_PATH, "a", encoding="utf-8") as log:
            log.write(f"\n$ {' '.join(cmd)}\n")
            log.flush()
            rc = subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, check=False).returncode
    finally:
        if constraint_file:
            os.unlink(constraint_file)
    if rc != 0:
        text = LOG_PATH.read_text(errors="replace")
        missing = sorted({package for needle, package in BUILD_HINTS if needle in text})
        hint = (f"\nBuilding from source needs the Debian packages {' '.join(missing)}: "
                f"apt-get install {' '.join(missing)}" if missing else "")
        raise WacrmError(f"pip install failed (exit code {rc}); last lines of {LOG_PATH}:\n"
                         f"{log_tail(LOG_PATH, 15)}{hint}")


def gevent_error() -> str | None:
    """Why gevent cannot monkey-patch, as Odoo's gevent process would; None if it can."""
    proc = subprocess.run([sys.executable, "-c", GEVENT_CHECK], capture_output=True, text=True,
                          check=False, stdin=subprocess.DEVNULL)
    if proc.returncode == 0:
        return None
    return (proc.stderr.strip().splitlines() or ["?"])[-1]


def check_gevent() -> None:
    error = gevent_error()
    if error:
        raise WacrmError("gevent cannot patch in this Python, so the gevent process of "
                         f"`odoo-bin --workers` (/websocket) would crash-loop: {error}")
    say("   gevent patches: ok (the gevent process of a prefork server can start)")


def cmd_deps(args: argparse.Namespace) -> int:
    ours = [REPO / name for name in OUR_REQUIREMENTS]
    odoo = odoo_requirements()
    stamp = stamp_path(ours + ([odoo] if odoo else []))
    if stamp.exists() and not args.force:
        # cheap enough to check each time: a package changed by hand since
        error = gevent_error() if odoo else None
        if not error:
            say(f"deps: already installed in {sys.prefix} (--force to run pip again)")
            return 0
        say(f"deps: gevent cannot patch ({error}): installing again")
    ARTIFACTS.mkdir(exist_ok=True)
    LOG_PATH.unlink(missing_ok=True)
    say(f"   into {sys.executable} (log: {LOG_PATH})")
    pip_install(ours)
    if odoo:
        pip_install([odoo], ODOO_CONSTRAINTS)
        check_gevent()
    # a prefix we may not write to: pip runs every time
    with contextlib.suppress(OSError):
        stamp.write_text(f"{sys.executable}\n")
    say("   requirements installed")
    return 0
