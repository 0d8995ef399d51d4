"""The committed editor bundle is built from the sources in the tree (no Node.js needed here):
frontend/workflow-editor/build.sh records the digest of the sources next to the bundle."""

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "frontend" / "workflow-editor"
BUNDLE = ROOT / "static" / "workflows" / "editor"


def sources_digest() -> str:
    """As frontend/workflow-editor/digest.sh: sha256 over `sha256sum` lines, paths sorted."""
    paths = [p.relative_to(SOURCES).as_posix() for p in (SOURCES / "src").rglob("*") if p.is_file()]
    paths += ["package.json", "package-lock.json", "vite.config.js"]
    lines = "".join(
        f"{hashlib.sha256((SOURCES / path).read_bytes()).hexdigest()}  {path}\n"
        for path in sorted(paths, key=lambda path: path.encode())
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def test_the_bundle_was_built_from_the_sources_in_the_tree():
    recorded = (BUNDLE / "SOURCES.sha256").read_text().strip()

    assert recorded == sources_digest(), (
        "static/workflows/editor/ was not rebuilt after a change under frontend/workflow-editor/: "
        "run frontend/workflow-editor/build.sh and commit the result"
    )


def test_the_bundle_is_there_and_minified():
    script = (BUNDLE / "editor.js").read_text()
    assert len(script) > 100_000
    assert script.count("\n") < 50
    assert (BUNDLE / "editor.css").stat().st_size > 1_000
