"""The browser tracker's build (pure Python: rjsmin, no npm) and the snippet pasted into pages.

Sources live in static/tracker/src/; `manage.py build_tracker` writes static/tracker/build/
(git-ignored). The UX widgets' scripts (static/tracker/src/widgets/) are built into
build/widgets/<name>.js, each one closure holding widgets/base.js and the widget's own file, and
served under /tracker/widgets/. The files are served under /tracker/ because that is where the
Tracardi snippet looks: `options.tracker.url.script` is "<server>/tracker" and the loader
appends a file name (ours: index.min.js; Tracardi's loaders: liliput.min.js, older ones
tracker.min.js).
"""

import hashlib
import json
import logging
from pathlib import Path

import rjsmin
from django.conf import settings

SOURCE_DIR = Path(settings.BASE_DIR) / "static" / "tracker" / "src"
BUILD_DIR = Path(settings.BASE_DIR) / "static" / "tracker" / "build"

# Built file -> (source file, minified?)
BUILD_OUTPUTS = {
    "index.js": ("tracker.js", False),
    "index.min.js": ("tracker.js", True),
    "loader.js": ("loader.js", False),
    "loader.min.js": ("loader.js", True),
}
# Name under /tracker/ -> built file. The aliases are the names Tracardi's loaders request.
SERVED_FILES = {
    "index.js": "index.js",
    "index.min.js": "index.min.js",
    "liliput.min.js": "index.min.js",
    "tracker.min.js": "index.min.js",
    "loader.js": "loader.js",
    "loader.min.js": "loader.min.js",
}
# The widgets the UX workflow actions deliver (apps/workflows/actions/ux*.py).
WIDGET_NAMES = ("consent", "question", "rating", "contact", "message")
WIDGETS_DIR = "widgets"
DEMO_SOURCE_ID = "demo-source"


logger = logging.getLogger(__name__)


def widget_file_name(widget: str) -> str:
    return f"{WIDGETS_DIR}/{widget}.js"


def _widget_source(widget: str) -> str:
    parts = [
        (SOURCE_DIR / WIDGETS_DIR / file_name).read_text(encoding="utf-8")
        for file_name in ("base.js", f"{widget}.js")
    ]
    body = "\n".join(parts)
    return f'(function (win, doc) {{\n"use strict";\n{body}\n}})(window, document);\n'


def tracker_output_render(name: str) -> str:
    """The text of one built file: a version banner, then the source, minified or not."""
    if name.startswith(f"{WIDGETS_DIR}/"):
        source_name, source, minify = name, _widget_source(name[len(WIDGETS_DIR) + 1 : -3]), True
    else:
        source_name, minify = BUILD_OUTPUTS[name]
        source = (SOURCE_DIR / source_name).read_text(encoding="utf-8")
    version = hashlib.sha256(source.encode()).hexdigest()[:12]
    code = rjsmin.jsmin(source) if minify else source
    return f"/*! CDP {source_name} {version} */\n{code.strip()}\n"


def tracker_build(*, build_dir: Path = BUILD_DIR) -> dict[str, Path]:
    """Write the readable and minified tracker and loader, and the widgets' scripts; returns
    {file name: path}."""
    (build_dir / WIDGETS_DIR).mkdir(parents=True, exist_ok=True)
    written = {}
    for name in (*BUILD_OUTPUTS, *(widget_file_name(widget) for widget in WIDGET_NAMES)):
        target = build_dir / name
        # Written under another name first so a running server never serves half a file.
        partial = target.with_name(target.name + ".tmp")
        partial.write_text(tracker_output_render(name), encoding="utf-8")
        partial.replace(target)
        written[name] = target
    return written


def tracker_file_read(name: str, *, build_dir: Path = BUILD_DIR) -> str:
    """A built file. Built here when missing: on hosts whose release step runs on another
    machine (Heroku-like), the web process may not see the files `build_tracker` wrote."""
    try:
        return (build_dir / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    logger.warning("%s is not built; building the tracker now (manage.py build_tracker).", name)
    try:
        tracker_build(build_dir=build_dir)
    except OSError as error:  # a read-only file system: serve it from memory
        logger.warning("Could not write the tracker build to %s: %s", build_dir, error)
    return tracker_output_render(name)


def _script_json(value: object) -> str:
    """JSON that is safe inside an inline <script> (no `</script>`, no HTML specials)."""
    text = json.dumps(value, indent=4, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def tracker_options(
    *,
    source_id: str,
    public_url: str,
    auto: dict | None = None,
    tracker_settings: dict | None = None,
) -> dict:
    base = public_url.rstrip("/")
    tracker: dict = {
        "url": {"script": f"{base}/tracker", "api": base},
        "source": {"id": source_id},
    }
    if auto:
        tracker["auto"] = auto
    if tracker_settings:
        tracker["settings"] = tracker_settings
    return {"tracker": tracker}


def tracker_snippet_render(
    *,
    source_id: str,
    public_url: str | None = None,
    auto: dict | None = None,
    tracker_settings: dict | None = None,
) -> str:
    """The <script> to paste into a page's <head>: the options, then the minified loader.

    Its shape is the Tracardi snippet's (`const options = {tracker: {url: {script, api},
    source: {id}}}`), so pages written for Tracardi only change the URLs and the source id.
    """
    options = tracker_options(
        source_id=source_id,
        public_url=public_url or settings.CDP_PUBLIC_URL,
        auto=auto,
        tracker_settings=tracker_settings,
    )
    loader = tracker_file_read("loader.min.js").strip()
    options_text = _script_json(options).replace("\n", "\n    ")
    return f"<script>\n    const options = {options_text};\n    {loader}\n</script>"
