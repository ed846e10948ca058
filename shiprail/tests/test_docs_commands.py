"""The operator docs show only commands that exist, and quote only messages the code prints.

For the docs in ``DOCS``:

* every command in a ```sh block is either marked as needing what no test here has (a
  ``MARKERS`` phrase in a comment above it in the block, at the end of its line, or in the
  line just before the block), or is one of: ``shiprail ...`` whose subcommand exists
  (``--help`` exits 0) and knows every ``--option`` given; ``make TARGET`` with a target of
  the Makefile; ``scripts/...`` that exists and is executable; ``workorders SUBCOMMAND``
  (the service's CLI); or shell plumbing that runs nothing (``export``, ``set``, ``.``).
  Pipes, ``&&`` and ``;`` split a line into commands, each checked; ``sudo`` is set aside;
* inline `shiprail ...`, `make ...` and `scripts/...` spans in the prose are checked the same way;
* every ``shiprail: error:`` and ``hint:`` line in a ```text block of the troubleshooting
  guide matches the source: its text between ``<placeholders>`` is found in the string
  literals of ``shiprail/src`` (an f-string's fields count as placeholders), pieced together
  only where the code joins two messages (``deploy refused: `` + ``verify ...``).

This checks that a command is real, not what it does there: the tests named in each doc do.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

import shiprail
from shiprail.cli import app

REPO = Path(__file__).resolve().parents[2]
SRC = Path(shiprail.__file__).resolve().parent
DOCS = [
    "docs/runner-install.md",
    "docs/github-setup.md",
    "docs/troubleshooting.md",
    "docs/secrets.md",
    "docs/runbooks/pod-crash-loop.md",
    "docs/console.md",
    "docs/kubernetes-local.md",
]
#: What a command may need that no test here has; a doc says so next to the command. "The
#: runner host" is a real VM set up as root or as the runner's user (docs/runner-install.md).
MARKERS = ("needs a cloud account", "needs a GitHub repository", "needs the runner host")
#: Shell built-ins that run nothing of their own.
PLUMBING = {"export", "set", ".", "source", "unset"}
SEPARATORS = {"|", "||", "&&", ";", "&"}
REDIRECTIONS = {">", ">>", "<", ">&"}
PLACEHOLDER = re.compile(r"<[^<>\n]*>")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
INLINE = re.compile(r"`((?:\.venv/bin/)?shiprail [^`]+|make [^`]+|scripts/[^`]+)`")


@dataclass(frozen=True)
class Command:
    doc: str
    line: int
    text: str
    marked: bool

    def where(self) -> str:
        return f"{self.doc}:{self.line}: {self.text}"


@dataclass(frozen=True)
class Block:
    doc: str
    line: int  # of the first line inside the fence
    lang: str
    lines: list[str]
    before: str  # the last non-blank line before the fence


def _marked(text: str) -> bool:
    lowered = text.lower()
    return any(marker.lower() in lowered for marker in MARKERS)


def _blocks(doc: str) -> list[Block]:
    lines = (REPO / doc).read_text().splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        indent, lang = opened.groups()
        before = next((line for line in reversed(lines[:index]) if line.strip()), "")
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = [
            line[len(indent) :] if line.startswith(indent) else line
            for line in lines[index + 1 : end]
        ]
        blocks.append(Block(doc, index + 2, lang, body, before))
        index = end + 1
    return blocks


def _commands(block: Block) -> list[Command]:
    found: list[Command] = []
    marked_here = _marked(block.before)
    by_comment = False
    pending, start = "", 0
    for offset, raw in enumerate(block.lines):
        line = raw.strip()
        if not line:
            by_comment = False
            continue
        if line.startswith("#") and not pending:
            by_comment = by_comment or _marked(line)
            continue
        if not pending:
            start = block.line + offset
        pending = f"{pending} {line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        found.append(
            Command(block.doc, start, pending, marked_here or by_comment or _marked(pending))
        )
        pending = ""
    return found


def _sh_commands(*docs: str) -> list[Command]:
    return [
        command
        for doc in docs or DOCS
        for block in _blocks(doc)
        if block.lang in {"sh", "bash", "shell", "console"}
        for command in _commands(block)
    ]


def _inline_commands() -> list[Command]:
    found = []
    for doc in DOCS:
        in_fence = False
        for number, line in enumerate((REPO / doc).read_text().splitlines(), start=1):
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            for match in INLINE.finditer(line):
                found.append(Command(doc, number, match.group(1), _marked(line)))
    return found


# -- the checkers ---------------------------------------------------------------------------


def _segments(text: str) -> list[list[str]]:
    """The simple commands of a shell line, as word lists (redirections left out)."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    skip = False
    for token in lexer:
        if skip:
            skip = False
        elif token in SEPARATORS:
            segments.append([])
        elif token in REDIRECTIONS:
            skip = True
        else:
            segments[-1].append(token)
    return [words for words in segments if words]


@cache
def _root() -> Any:
    """The click command tree of the shiprail app (typer's own copy of click: duck-typed)."""
    return typer.main.get_command(app)


def _is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def _options(command: Any) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


def _check_shiprail(args: list[str]) -> str | None:
    root = _root()
    args = list(args)
    while args and args[0].startswith("-"):
        if args.pop(0) not in _options(root) | {"--help"}:
            return "unknown option of shiprail itself"
    command = root
    path: list[str] = []
    while _is_group(command) and args and args[0] in command.commands:
        path.append(args.pop(0))
        command = command.commands[path[-1]]
    if not path:
        return f"no shiprail command {args[:1]}"
    if _is_group(command) and not getattr(command, "invoke_without_command", False):
        return f"'shiprail {' '.join(path)}' needs a subcommand, not {args[:1]}"
    unknown = [
        arg
        for arg in args
        if arg.startswith("--") and arg.split("=")[0] not in _options(command) | {"--help"}
    ]
    if unknown:
        return f"'shiprail {' '.join(path)}' has no option {unknown}"
    result = CliRunner().invoke(app, [*path, "--help"])
    if result.exit_code != 0:
        return f"'shiprail {' '.join(path)} --help' exited {result.exit_code}"
    return None


@cache
def _make_targets() -> frozenset[str]:
    text = (REPO / "Makefile").read_text().replace("$(VENV)", ".venv")
    return frozenset(re.findall(r"^([A-Za-z0-9_./-]+):", text, flags=re.MULTILINE))


def _check_make(args: list[str]) -> str | None:
    targets = [arg for arg in args if not arg.startswith("-") and "=" not in arg]
    missing = [target for target in targets if target not in _make_targets()]
    return f"no make target {missing}" if missing else None


def _check_script(path: str) -> str | None:
    script = REPO / path
    if not script.is_file():
        return f"{path} does not exist"
    if not os.access(script, os.X_OK):
        return f"{path} is not executable"
    return None


def _check_workorders(args: list[str]) -> str | None:
    from workorders import cli

    if not args:
        return "workorders needs a subcommand"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            cli.main([args[0], "--help"])
        except SystemExit as exc:
            return None if exc.code == 0 else f"workorders {args[0]} --help exited {exc.code}"
    return f"workorders {args[0]} --help did not exit"


def _problem(text: str) -> str | None:
    """Why this unmarked command is not one a test here can vouch for (None: it is)."""
    text = PLACEHOLDER.sub("X", text)  # <placeholders> are words, not redirections
    if "$(" in text or "`" in text:
        return "a command substitution: mark the line, or show the commands one by one"
    for words in _segments(text):
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words = words[1:]
        if words[:1] == ["sudo"]:
            words = words[1:]
        if not words or words[0] in PLUMBING:
            continue
        head, args = words[0], words[1:]
        if head in {"shiprail", ".venv/bin/shiprail"}:
            problem = _check_shiprail(args)
        elif head == "make":
            problem = _check_make(args)
        elif head.startswith("scripts/"):
            problem = _check_script(head)
        elif head == "workorders":
            problem = _check_workorders(args)
        else:
            problem = f"'{head}' is not a shiprail, make, scripts/ or workorders command"
        if problem:
            return problem
    return None


# -- the tests ------------------------------------------------------------------------------


def test_the_docs_exist_and_show_commands() -> None:
    for doc in DOCS:
        assert (REPO / doc).is_file(), doc
    assert len(_sh_commands()) > 20


@pytest.mark.parametrize("doc", DOCS)
def test_every_command_in_a_sh_block_exists_or_says_what_it_needs(doc: str) -> None:
    problems = [
        f"{command.where()}\n    {problem}"
        for command in _sh_commands(doc)
        if not command.marked
        for problem in [_problem(command.text)]
        if problem
    ]
    assert not problems, (
        f"commands neither checked nor marked with one of {MARKERS}:\n" + "\n".join(problems)
    )


def test_inline_commands_in_the_prose_exist() -> None:
    problems = [
        f"{command.where()}\n    {problem}"
        for command in _inline_commands()
        if not command.marked
        for problem in [_problem(PLACEHOLDER.sub("X", command.text))]
        if problem
    ]
    assert not problems, "\n".join(problems)


def test_the_checker_refuses_what_does_not_exist() -> None:
    assert _problem("shiprail deploy dev --image x") is None
    assert _problem("shiprail --debug status prod") is None
    assert _problem("sudo scripts/install-tools.sh docker.io") is None
    assert _problem("make tools && shiprail doctor | cat") is not None  # cat: no
    assert _problem("shiprail teleport prod") is not None
    assert _problem("shiprail deploy dev --imag x") is not None
    assert _problem("shiprail registry") is not None
    assert _problem("make no-such-target") is not None
    assert _problem("scripts/no-such-script.sh") is not None
    assert _problem("scripts/lib/cloud.sh") is not None  # sourced, not executable
    assert _problem("workorders hash-token < token") is None
    assert _problem("workorders frobnicate") is not None
    assert _problem("export KUBECONFIG=$(scripts/get-eks-kubeconfig.sh c r)") is not None
    block = Block("x.md", 1, "sh", ["# needs a cloud account", "aws s3 ls", "", "aws s3 ls"], "")
    assert [c.marked for c in _commands(block)] == [True, False]


# -- quoted messages ------------------------------------------------------------------------


@cache
def _source_runs() -> str:
    """Every string literal of shipral/src, an f-string cut at its fields, joined by \\x01."""
    runs: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                runs.append(node.value)
            elif isinstance(node, ast.JoinedStr):
                text = "".join(
                    part.value if isinstance(part, ast.Constant) else "\0" for part in node.values
                )
                runs.extend(text.split("\0"))
    return "\x01" + "\x01".join(run.replace("\x01", "") for run in runs) + "\x01"


def _covered(segment: str) -> bool:
    """Whether ``segment`` is in one literal, or spans two or three where messages join."""
    runs = _source_runs()
    if segment in runs:
        return True
    ends = [i for i in range(1, len(segment)) if segment[:i] + "\x01" in runs]
    starts = [j for j in range(1, len(segment)) if "\x01" + segment[j:] in runs]
    return any(i == j for i in ends for j in starts) or any(
        "\x01" + segment[i:j] + "\x01" in runs for i in ends for j in starts if i < j
    )


def _quoted_messages() -> list[tuple[int, str]]:
    found = []
    for block in _blocks("docs/troubleshooting.md"):
        if block.lang != "text":
            continue
        for offset, line in enumerate(block.lines):
            for prefix in ("shiprail: error: ", "  hint: "):
                if line.startswith(prefix):
                    found.append((block.line + offset, line[len(prefix) :]))
    return found


def test_every_quoted_message_is_the_codes_own_text() -> None:
    messages = _quoted_messages()
    assert len(messages) >= 15
    problems = [
        f"docs/troubleshooting.md:{line}: {segment!r} of {message!r}"
        for line, message in messages
        for segment in PLACEHOLDER.split(message)
        if segment.strip() and not _covered(segment)
    ]
    assert not problems, "not found in shiprail/src:\n" + "\n".join(problems)


def test_the_message_check_notices_a_paraphrase() -> None:
    assert _covered("the local registry is not running")
    assert _covered("deploy refused: verify ")  # "{action} refused: {...}" + "verify {image}"
    assert not _covered("the local registry is down")
    assert not _covered("deploy was refused: verify ")


def _doc_message(starting: str) -> re.Pattern[str]:
    """The message (and hint) the guide quotes that starts with ``starting``, as a regex."""
    for block in _blocks("docs/troubleshooting.md"):
        text = "\n".join(block.lines)
        if block.lang == "text" and text.startswith(f"shiprail: error: {starting}"):
            parts = PLACEHOLDER.split(text)
            return re.compile(".+".join(re.escape(part) for part in parts))
    raise AssertionError(f"the guide quotes no message starting with {starting!r}")


def test_publishing_an_image_never_scanned_prints_what_the_guide_quotes(tmp_path: Path) -> None:
    """The one quoted refusal no other test produces: ``publish`` looks up the stored scan."""
    from shiprail.errors import UsageError
    from shiprail.image import scan_record

    digest = "sha256:" + "ab" * 32
    with pytest.raises(UsageError) as caught:
        scan_record.load(tmp_path, digest, "workorders:1.0.0-0123456789ab")
    assert caught.value.exit_code == 2
    assert _doc_message("<image> (<digest>) has not been scanned").fullmatch(
        f"shiprail: error: {caught.value}"
    )
