"""The command examples of the manual's pages, as the tests run them.

A page marks each example it promises as a ```console block: lines starting with `$ ` are
commands (a line ending in `\\` continues on the next), the lines after one are what it prints
(stdout and stderr), where `...` stands for any text (ids, times). `sh` or `bash` blocks are
not allowed on the pages whose examples are run, so that no command escapes the test.
"""

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
END_MARKER = "@@@ end of example @@@"


@dataclass(frozen=True)
class Example:
    page: str
    command: str
    expected: str

    def matches(self, output: str) -> bool:
        return re.fullmatch(_pattern(self.expected), _tidy(output), re.DOTALL) is not None


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def _pattern(expected: str) -> str:
    return ".*?".join(re.escape(part) for part in _tidy(expected).split("..."))


def fenced_blocks(page: Path) -> list[tuple[str, str]]:
    return [(match[1], match[2]) for match in FENCE.finditer(page.read_text())]


def page_examples(page: Path) -> list[Example]:
    examples: list[Example] = []
    name = str(page.relative_to(DOCS))
    for language, body in fenced_blocks(page):
        if language != "console":
            continue
        command: list[str] = []
        output: list[str] = []
        lines = body.splitlines()
        index = 0
        while index < len(lines):
            line = lines[index]
            if line.startswith("$ "):
                if command:
                    examples.append(Example(name, "\n".join(command), "\n".join(output)))
                command, output = [line[2:]], []
                while command[-1].endswith("\\") and index + 1 < len(lines):
                    index += 1
                    command.append(lines[index])
            else:
                output.append(line)
            index += 1
        if command:
            examples.append(Example(name, "\n".join(command), "\n".join(output)))
    return examples


def script(examples: list[Example]) -> str:
    """One bash script for a page's examples (variables carry from one to the next), each
    command's output followed by the end marker."""
    parts = ["set -u"]
    for example in examples:
        parts.append("{\n" + example.command + "\n} 2>&1")
        parts.append(f"printf '\\n%s\\n' '{END_MARKER}'")
    return "\n".join(parts) + "\n"


def split_outputs(output: str) -> list[str]:
    chunks = output.split(f"\n{END_MARKER}\n")
    return chunks[:-1]
