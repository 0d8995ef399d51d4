"""Building `docs/` into the static site the CDP serves under /docs/ (MkDocs, strict: a broken
link, a missing page or any warning fails the build)."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from cdp.docsite.reference import REFERENCE_DIR, reference_pages, write_reference

ROOT = Path(__file__).resolve().parent.parent.parent
MKDOCS_CONFIG = ROOT / "mkdocs.yml"


def stale_reference_pages(directory: Path = REFERENCE_DIR) -> list[str]:
    """The reference pages whose committed text differs from what the code generates now."""
    stale = []
    for name, text in reference_pages().items():
        path = directory / name
        if not path.exists() or path.read_text() != text:
            stale.append(name)
    return stale


def build_site(site_dir: Path | None = None) -> int:
    """`mkdocs build --strict` into the directory /docs/ serves; returns its exit status."""
    target = site_dir or settings.CDP_DOCS_ROOT
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--config-file",
        str(MKDOCS_CONFIG),
        "--site-dir",
        str(target),
    ]
    # Material's banner about its successor is not a warning of this site's.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.call(command, cwd=ROOT, env=env)


def main(args: list[str]) -> int:
    """`python -m cdp.docsite [--check | --build]`: regenerate the reference (or, with --check,
    fail when the committed pages differ from it; with --build, leave it as committed, as the
    release step does), then build the site."""
    unknown = [arg for arg in args if arg not in {"--check", "--build"}]
    if unknown:
        print(f"Unknown option {unknown[0]!r}; use --check or --build.", file=sys.stderr)
        return 2
    if "--build" in args:
        pass
    elif "--check" in args:
        stale = stale_reference_pages()
        if stale:
            print(
                "The reference pages differ from the code: "
                + ", ".join(f"docs/reference/{name}" for name in stale)
                + ". Run `python3 run.py docs` and commit them.",
                file=sys.stderr,
            )
            return 1
    else:
        for path in write_reference():
            print(f"wrote {path.relative_to(ROOT)}")
    status = build_site()
    if status == 0:
        print(f"built the site in {settings.CDP_DOCS_ROOT} (served under /docs/)")
    return status
