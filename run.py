#!/usr/bin/env python3
"""The two commands of the README.

    python3 run.py start   # set up and start the whole CDP (web, worker, beat)
    python3 run.py test    # set up and run the whole test suite (extra args go to pytest)
    python3 run.py docs    # regenerate the reference pages and build the manual (served at /docs/)
                           #   --check: fail when the committed reference differs from the code
                           #   --screenshots: retake the manual's screenshots first (Chromium)

Everything a fresh clone needs happens here: a virtualenv in .venv, the pinned requirements
(re-installed when requirements.txt changes), then the rest runs inside the virtualenv.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / ".requirements.sha256"


def ensure_virtualenv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (run.py may be started by an older python3)
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}.")
    if not VENV_PYTHON.exists():
        print(f"Creating the virtualenv in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        print("Installing the pinned requirements ...", flush=True)
        subprocess.run(
            [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True
        )
        subprocess.run(
            [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
            check=True,
        )
        STAMP.write_text(wanted)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"start", "test", "docs"}:
        sys.exit(__doc__)
    ensure_virtualenv()
    os.chdir(ROOT)
    command = [str(VENV_PYTHON), "-m", "cdp.devtools", *sys.argv[1:]]
    if os.name == "nt":
        sys.exit(subprocess.call(command))
    os.execv(str(VENV_PYTHON), command)


if __name__ == "__main__":
    main()
