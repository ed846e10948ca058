"""atheris fuzz targets for the configuration loaders: run as a program, one target a run.

    python targets.py TARGET [libFuzzer options] CORPUS_DIR...

TARGET is ``shiprail-yaml`` (:func:`shiprail.config.load_config`), ``waivers``
(:func:`shiprail.scan.waivers.load`), ``baseline`` (:func:`shiprail.scan.baseline.read`) or
``cli`` (``shiprail status --json`` on a repository whose ``shiprail.yaml`` is the input).
Each input is written to a file and handed to the real loader. The loader may accept it or
raise :class:`ConfigError` whose message is one line naming the file (and the line, when the
text parsed as YAML or failed as JSON syntax); the CLI must exit 0 or 2 without a traceback
and write no ledger. Anything else (another exception, a second line, a missing file name)
raises here, and libFuzzer stops with the input saved as a ``crash-*`` file.

The loaders, PyYAML and the JSON decoder's Python parts are instrumented, so libFuzzer's
coverage feedback steers the mutations into the parsers' branches. Programs rather than
in-process tests because libFuzzer owns the process: it exits when the runs are done.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["shiprail", "yaml", "json"]):
    from shiprail.config import load_config
    from shiprail.errors import ConfigError
    from shiprail.scan import baseline, waivers

#: Inputs are written here: the directory the run starts in (the test gives a temporary one).
WORK = Path.cwd()
#: A first line ``<name>: `` or ``<name>:<line>: ``; the message is a single line.
_WHERE = re.compile(r"^(?P<name>[^\n]+?):(?:(?P<line>\d+):)? ")


class Escaped(AssertionError):
    """The loader broke its contract on this input (libFuzzer saves it as a crash)."""


def _parses(data: bytes, parse: Callable[[str], object]) -> bool:
    try:
        parse(data.decode("utf-8"))
    except Exception:  # anything that does not parse: no line number is promised
        return False
    return True


def _yaml_syntax_ok(data: bytes) -> bool:
    import yaml

    return _parses(data, lambda text: yaml.compose(text, Loader=yaml.SafeLoader))


def _json_syntax_error(data: bytes) -> bool:
    import json

    try:
        json.loads(data.decode("utf-8"))
    except json.JSONDecodeError:
        return True
    except Exception:  # not UTF-8, too deep, too large: no line to give
        return False
    return False


def check_message(exc: ConfigError, name: str, *, line_expected: bool) -> None:
    """One line, starting with the file's name, with a line number when one is promised."""
    message = exc.message
    if "\n" in message or "\r" in message:
        raise Escaped(f"a message of several lines: {message!r}")
    where = _WHERE.match(message)
    if not message.startswith(name) or where is None or where["name"] != name:
        raise Escaped(f"the message does not start with {name}: {message!r}")
    if line_expected and where["line"] is None:
        raise Escaped(f"no line number: {message!r}")


def shiprail_yaml(data: bytes) -> None:
    path = WORK / "shiprail.yaml"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as exc:
        check_message(exc, "shiprail.yaml", line_expected=_yaml_syntax_ok(data))


def waivers_file(data: bytes) -> None:
    path = WORK / "waivers.yaml"
    path.write_bytes(data)
    try:
        waivers.load(path, ".shiprail/waivers.yaml")
    except ConfigError as exc:
        check_message(exc, ".shiprail/waivers.yaml", line_expected=_yaml_syntax_ok(data))


def baseline_file(data: bytes) -> None:
    path = WORK / "baseline.json"
    path.write_bytes(data)
    try:
        found = baseline.read(path)
    except ConfigError as exc:
        check_message(exc, str(path), line_expected=_json_syntax_error(data))
        return
    if not all(isinstance(fingerprint, str) for fingerprint in found):
        raise Escaped(f"fingerprints that are not strings: {found!r}")


def cli_status(data: bytes) -> None:
    """``shiprail status --json`` on the input: exit 0 or 2, one error line, no ledger."""
    from typer.testing import CliRunner

    from shiprail.cli import app
    from shiprail.settings import get_settings

    root, state = WORK / "repo", WORK / "state"
    root.mkdir(exist_ok=True)
    shutil.rmtree(state, ignore_errors=True)  # what an earlier, valid input left
    (root / "shiprail.yaml").write_bytes(data)
    get_settings.cache_clear()
    env = {"SHIPRAIL_ROOT": str(root), "SHIPRAIL_STATE_DIR": str(state)}
    env["SHIPRAIL_DATABASE_URL"] = ""
    result = CliRunner().invoke(app, ["status", "--json"], env=env)
    get_settings.cache_clear()
    output = result.output
    if result.exit_code not in (0, 2) or "Traceback" in output:
        raise Escaped(f"exit {result.exit_code}: {output[-2000:]!r}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise Escaped(f"an exception escaped: {result.exception!r}")
    if result.exit_code == 2:
        errors = [line for line in output.splitlines() if line.startswith("shiprail: error: ")]
        if len(errors) != 1 or not errors[0].startswith("shiprail: error: shiprail.yaml"):
            raise Escaped(f"not one error line naming shiprail.yaml: {output!r}")
        if state.exists() and any(state.iterdir()):
            raise Escaped("a rejected configuration left a state directory behind")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "shiprail-yaml": shiprail_yaml,
    "waivers": waivers_file,
    "baseline": baseline_file,
    "cli": cli_status,
}


def main() -> None:
    target = TARGETS[sys.argv.pop(1)]
    os.environ.pop("SHIPRAIL_DEBUG", None)
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
