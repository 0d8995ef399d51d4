"""Action docs (plain text with `code` spans and indented code blocks) as admin HTML."""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_CODE_SPAN = re.compile(r"``\s?(.+?)\s?``|`([^`]+)`")


def _inline(text: str) -> str:
    parts, position = [], 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(escape(text[position : match.start()]))
        parts.append(f"<code>{escape(match[1] or match[2])}</code>")
        position = match.end()
    parts.append(escape(text[position:]))
    return "".join(parts)


def docs_html(text: str) -> SafeString:
    blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.split("\n")
        if all(line.startswith("    ") for line in lines):
            blocks.append(("pre", "\n".join(line[4:] for line in lines)))
        else:
            blocks.append(("p", " ".join(lines)))
    html = []
    for kind, content in blocks:
        if kind == "pre":
            html.append(f"<pre>{escape(content)}</pre>")
        else:
            html.append(f"<p>{_inline(content)}</p>")
    return mark_safe("".join(html))  # noqa: S308  (all text escaped above)
