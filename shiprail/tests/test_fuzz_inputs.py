"""Bad configuration and inputs, fuzzed: every input ends in success or a one-line usage error.

``shiprail.yaml``, the waivers file, baselines, ``SHIPRAIL_DATABASE_URL`` and command-line
arguments are generated with Hypothesis. The documents come from the configuration models'
JSON schemas (so most keys are real ones) and are then mutated: wrong types, unknown keys,
out-of-range and huge numbers, odd unicode, deep nesting, anchors and aliases, non-mapping
top levels, truncated or binary files. The real loaders and the real CLI must either accept
the input or raise :class:`ConfigError` (exit 2) naming the file, the line and the field;
nothing else may escape, and a rejected configuration leaves no ledger behind.

Runs are derandomized (the same examples every run) and small enough for ``make test``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import secrets
import sqlite3
import string
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shiprail.cli import app
from shiprail.config import ShiprailConfig, load_config, single_line
from shiprail.errors import ConfigError
from shiprail.scan import baseline, waivers
from shiprail.settings import get_settings

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(FUZZ, max_examples=25)

#: Planted in every fuzzed database URL; it must never reach the output (made at run time,
#: so no secret-looking literal sits in the repository).
PASSWORD = "canary" + secrets.token_hex(6)

# -- documents from the models' JSON schemas ------------------------------------------------

ODD_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12
) | st.sampled_from(["", " ", "é", "\u2028", "a\nb", "\t", "ðŸ", "0x1F", "~", "null", "yes"])
NAMES = st.sampled_from(["dev", "stage", "prod"]) | st.from_regex(
    r"[a-z][a-z0-9-]{0,8}", fullmatch=True
)


def from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that (mostly) fit a pydantic JSON schema; unknown constructs give odd text."""
    if "$ref" in schema:
        return st.deferred(lambda: from_schema(defs[schema["$ref"].split("/")[-1]], defs))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    if "anyOf" in schema or "oneOf" in schema:
        return st.one_of([from_schema(s, defs) for s in schema.get("anyOf", schema.get("oneOf"))])
    if "allOf" in schema:
        return from_schema(schema["allOf"][0], defs)
    kind = schema.get("type")
    default = [schema["default"]] if "default" in schema else []
    if kind == "object":
        properties = schema.get("properties", {})
        if properties:
            required = set(schema.get("required", []))
            fields = {name: from_schema(sub, defs) for name, sub in properties.items()}
            return st.fixed_dictionaries(
                {k: v for k, v in fields.items() if k in required},
                optional={k: v for k, v in fields.items() if k not in required},
            )
        values = schema.get("additionalProperties")
        if isinstance(values, dict):
            return st.dictionaries(NAMES, from_schema(values, defs), max_size=2)
        return st.dictionaries(NAMES, ODD_TEXT, max_size=2)
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), defs), max_size=3)
    if kind == "string":
        if schema.get("format") == "date":
            return st.dates() | st.dates().map(dt.date.isoformat)
        options = [st.just(value) for value in default if isinstance(value, str)]
        if "pattern" in schema:
            options.append(st.from_regex(schema["pattern"], fullmatch=True))
        options.append(st.text(min_size=schema.get("minLength", 0), max_size=16))
        return st.one_of(options)
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
        return st.integers(min_value=low, max_value=schema.get("maximum", low + 10_000))
    if kind == "number":
        return st.floats(
            min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
            max_value=schema.get("maximum"),
            exclude_min="exclusiveMinimum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return st.none() | ODD_TEXT


def schema_documents(model: Any) -> st.SearchStrategy[Any]:
    schema = model.model_json_schema()
    return from_schema(schema, schema.get("$defs", {}))


WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([-1, 0, 2**31, 2**64, 10**40, -(10**40)]),
    st.floats(allow_nan=True, allow_infinity=True),
    ODD_TEXT,
    st.dates(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(ODD_TEXT, st.integers(), max_size=2),
    st.integers(min_value=20, max_value=120).map(lambda depth: _nested(depth)),
)


def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


def _containers(doc: Any) -> list[Any]:
    """Every mapping and list in ``doc`` (each once, so shared and cyclic nodes end the walk)."""
    found: dict[int, Any] = {}
    todo = [doc]
    while todo:
        node = todo.pop()
        if isinstance(node, (dict, list)) and id(node) not in found:
            found[id(node)] = node
            todo.extend(node.values() if isinstance(node, dict) else node)
    return list(found.values())


@st.composite
def mutated(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> Any:
    """A schema document with a few mutations: wrong values, unknown keys, shared nodes
    (written as YAML anchors and aliases), or a top level that is not a mapping."""
    doc = draw(documents)
    for _ in range(draw(st.integers(0, 3))):
        spots = list(_containers(doc))
        if not spots:
            break
        target = draw(st.sampled_from(spots))
        how = draw(st.sampled_from(["replace", "unknown", "alias", "top"]))
        if how == "top":
            doc = draw(WRONG_VALUES | st.lists(WRONG_VALUES, max_size=2))
            continue
        if isinstance(target, dict):
            key = draw(st.sampled_from(list(target)) if target and how != "unknown" else ODD_TEXT)
        elif target:
            key = draw(st.integers(0, len(target) - 1))
        else:
            target.append(None)
            key = 0
        if how == "alias":
            target[key] = draw(st.sampled_from(spots))  # the same object: an alias
        else:
            target[key] = draw(WRONG_VALUES)
    return doc


def _dump(doc: Any, flow: bool, unicode: bool) -> bytes:
    try:
        text = yaml.safe_dump(doc, default_flow_style=flow, allow_unicode=unicode, sort_keys=False)
    except (yaml.YAMLError, RecursionError):  # a self-referencing alias: keep it small
        text = "a: &a [*a]\n"
    return text.encode("utf-8")


@st.composite
def yaml_files(draw: st.DrawFn, model: Any) -> bytes:
    """The bytes of a file: a YAML rendering of a (mutated) document, perhaps damaged."""
    documents = schema_documents(model)
    doc = draw(documents | mutated(documents))
    body = _dump(doc, draw(st.booleans()), draw(st.booleans()))
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "binary", "prefix"]))
    if damage == "truncate" and body:
        body = body[: draw(st.integers(0, len(body) - 1))]
    elif damage == "flip" and body:
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] + draw(st.binary(min_size=1, max_size=3)) + body[at + 1 :]
    elif damage == "binary":
        body = draw(st.binary(max_size=64))
    elif damage == "prefix":
        body = draw(st.sampled_from(SNIPPETS)) + body
    return body


#: Hand-written troublemakers, prefixed to generated files and kept as regression examples.
SNIPPETS = [
    b"\xff\xfe\x00garbage\x80",  # not UTF-8
    b"version: 1\x00\n",  # a character YAML refuses
    b"version: 2025-02-30\n",  # a timestamp Python cannot build
    b"version: " + b"9" * 5000 + b"\n",  # an integer past Python's digit limit
    b"[" * 5000 + b"]" * 5000,  # nesting deeper than the recursion limit
    b'"a\\nb": 1\n',  # a key with a line break
    b'environments: {"a\\u2028b": {}}\n',  # ... and with a unicode line separator
    b"a: &a [*a, *a]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n",  # aliases (a small "laughs")
    b"!!python/object:os.system {}\n",
    b"? [a, b]\n: 1\n",  # an unhashable key
    b"service:\n  <<: 1\n",  # a merge key on a scalar
    b"---\na: 1\n---\nb: 2\n",  # two documents
    b"- 1\n- 2\n",  # a list at the top level
    b"version: !!float abc\n",
    b"\xef\xbb\xbfversion: 1\n",  # a byte-order mark
]

_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def _parsed(body: bytes) -> tuple[bool, Any]:
    try:
        return True, yaml.safe_load(body.decode("utf-8"))
    except Exception:  # anything that fails to parse
        return False, None


def assert_one_config_error(exc: ConfigError, body: bytes, name: str, model: Any) -> None:
    """The message is one line naming the file, the line when the YAML parsed, the field."""
    message = str(exc)
    assert len(message.splitlines()) == 1, message
    assert message.startswith(name), message
    ok, data = _parsed(body)
    if not ok:
        return
    where = re.match(rf"{re.escape(name)}:(\d+): ", message)
    assert where, f"no line number: {message}"
    lines = len(_BREAKS.split(body.decode("utf-8")))
    assert 1 <= int(where.group(1)) <= lines, message
    try:
        model.model_validate(data if data is not None else {})
    except Exception as invalid:  # the field the loader must name
        location = invalid.errors()[0]["loc"] if hasattr(invalid, "errors") else ()
        dotted = single_line(".".join(str(part) for part in location)) or "(top level)"
        assert message[where.end() :].startswith(f"{dotted}: "), (dotted, message)


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


# -- shiprail.yaml --------------------------------------------------------------------------


def check_shiprail_yaml(body: bytes) -> None:
    with scratch() as tmp:
        path = tmp / "shiprail.yaml"
        path.write_bytes(body)
        try:
            assert isinstance(load_config(path), ShiprailConfig)
        except ConfigError as exc:
            assert_one_config_error(exc, body, "shiprail.yaml", ShiprailConfig)


@pytest.mark.parametrize("body", SNIPPETS)
def test_troublemakers_are_config_errors_or_configs(body: bytes) -> None:
    check_shiprail_yaml(body)


@FUZZ
@given(body=yaml_files(ShiprailConfig))
@example(body=b"")
@example(body=b"environments: {dev: {replicas: x}}\n")
@example(body=b"scan: &s {fail_on: high}\nimage_scan: *s\n")
def test_shiprail_yaml_loads_or_names_file_line_and_field(body: bytes) -> None:
    check_shiprail_yaml(body)


def test_a_directory_named_shiprail_yaml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "shiprail.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"^shiprail\.yaml: cannot read the file"):
        load_config(tmp_path / "shiprail.yaml")


# -- the waivers file -----------------------------------------------------------------------


@FUZZ
@given(body=yaml_files(waivers.WaiverFile) | st.sampled_from(SNIPPETS))
@example(body=b"waivers:\n  - {rule: B608, reason: ok, owner: me, expires: 2025-02-30}\n")
@example(body=b"waivers:\n  - {rule: B608, reason: fine, owner: team, expires: 2030-01-01}\n")
def test_waivers_load_or_name_file_line_and_field(body: bytes) -> None:
    with scratch() as tmp:
        path = tmp / "waivers.yaml"
        path.write_bytes(body)
        try:
            loaded = waivers.load(path, ".shiprail/waivers.yaml")
            assert all(isinstance(waiver, waivers.Waiver) for waiver in loaded)
        except ConfigError as exc:
            assert_one_config_error(exc, body, ".shiprail/waivers.yaml", waivers.WaiverFile)


# -- baselines ------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ODD_TEXT, inner, max_size=3),
    max_leaves=10,
)
BASELINES = st.fixed_dictionaries(
    {"findings": st.lists(st.fixed_dictionaries({"fingerprint": ODD_TEXT | JSON}) | JSON)},
    optional={"version": JSON, "tool": JSON},
)


@st.composite
def baseline_files(draw: st.DrawFn) -> bytes:
    doc = draw(BASELINES | JSON)
    body = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8")
    damage = draw(st.sampled_from(["none", "none", "truncate", "binary", "deep", "huge"]))
    if damage == "truncate" and body:
        body = body[: draw(st.integers(0, len(body) - 1))]
    elif damage == "binary":
        body = draw(st.binary(max_size=64))
    elif damage == "deep":
        depth = draw(st.integers(100, 5000))
        body = b'{"findings": ' + b"[" * depth + b"]" * depth + b"}"
    elif damage == "huge":
        body = b'{"findings": [{"fingerprint": ' + b"7" * draw(st.integers(4000, 6000)) + b"}]}"
    return body


@FUZZ
@given(body=baseline_files())
@example(body=b"\xff\xfe")
@example(body=b"[" * 100_000)
@example(body=b'{"findings": ' + b"9" * 5000 + b"}")
@example(body=b'{"findings": [{"fingerprint": "abc"}, 1, null]}')
def test_baseline_reads_or_names_the_file(body: bytes) -> None:
    with scratch() as tmp:
        path = tmp / "baseline.json"
        path.write_bytes(body)
        try:
            found = baseline.read(path)
            assert all(isinstance(fingerprint, str) for fingerprint in found)
        except ConfigError as exc:
            message = str(exc)
            assert len(message.splitlines()) == 1, message
            assert message.startswith(str(path)), message
            if _json_syntax_error(body):
                assert re.match(rf"{re.escape(str(path))}:\d+: invalid JSON", message), message


def _json_syntax_error(body: bytes) -> bool:
    try:
        json.loads(body.decode("utf-8"))
    except json.JSONDecodeError:
        return True
    except Exception:  # not UTF-8, too deep, too big: no line to give
        return False
    return False


# -- the CLI --------------------------------------------------------------------------------

READERS = st.sampled_from(
    [["status"], ["status", "--json"], ["history", "dev"], ["history", "prod", "--json"]]
)


def _invoke(args: list[str], root: Path, state: Path, **env: str) -> Any:
    get_settings.cache_clear()  # each invocation reads its own environment
    env = {
        "SHIPRAIL_ROOT": str(root),
        "SHIPRAIL_STATE_DIR": str(state),
        "SHIPRAIL_DATABASE_URL": "",
        **env,
    }
    with contextlib.chdir(root):  # a relative SQLite URL lands in the scratch directory
        result = CliRunner().invoke(app, args, env=env)
    get_settings.cache_clear()
    return result


def assert_clean_ending(result: Any) -> None:
    """Exit 0, or an error of one line (plus its hint) and never a traceback."""
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code != 0:
        lines = result.output.splitlines()
        errors = [line for line in lines if line.startswith("shiprail: error: ")]
        usage = [line for line in lines if line.startswith(("Usage:", "Try ", "╭", "│", "╰"))]
        assert len(errors) == 1 or usage, result.output
        if errors:
            after = lines[lines.index(errors[0]) + 1 :]
            assert all(line.startswith("  hint: ") for line in after), result.output


def _ledger_rows(state: Path) -> int:
    database = state / "state.db"
    if not database.exists():
        return 0
    with contextlib.closing(sqlite3.connect(database)) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
        return sum(
            connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in ("releases", "attempts", "approvals", "locks")
            if table in tables
        )


@FEW
@given(body=yaml_files(ShiprailConfig), args=READERS)
@example(body=b"\xff\xfe", args=["status"])
@example(body=b"version: 2025-02-30\n", args=["history", "dev"])
@example(body=b'"a\\nb": 1\n', args=["status"])
@example(body=b"[" * 5000, args=["status", "--json"])
def test_cli_reading_shiprail_yaml_exits_0_or_2_and_leaves_no_ledger(
    body: bytes, args: list[str]
) -> None:
    with scratch() as tmp:
        root, state = tmp / "repo", tmp / "state"
        root.mkdir()
        (root / "shiprail.yaml").write_bytes(body)
        try:
            load_config(root / "shiprail.yaml")
            valid = True
        except ConfigError:
            valid = False
        result = _invoke(args, root, state)
        assert result.exit_code in (0, 2), result.output
        assert_clean_ending(result)
        if not valid:
            assert result.exit_code == 2
            assert re.search(r"^shiprail: error: shiprail\.yaml(:\d+)?: ", result.output, re.M)
            assert not state.exists() or not any(state.iterdir()), "a ledger for a bad config"
        assert _ledger_rows(state) == 0, "a read-only command wrote ledger rows"


URL_SCHEMES = st.sampled_from(
    ["postgresql+psycopg"] * 4 + ["postgresql", "postgres", "mysql", "foo", "sqlite", "é", ""]
) | st.from_regex(r"[a-z+]{1,10}", fullmatch=True)
URL_HOSTS = st.sampled_from(
    ["127.0.0.1:1"] * 4 + ["127.0.0.1:notaport", "127.0.0.1:99999", "[::1", "[::1]:1", ""]
)
URL_TAILS = st.sampled_from(
    ["/db?connect_timeout=1"] * 3
    + ["/db?connect_timeout=abc", "/db?sslmode=bogus&connect_timeout=1", "", "/", "/db?%zz"]
)


@st.composite
def database_urls(draw: st.DrawFn) -> str:
    """URLs with the planted password: plausible ones with broken parts, SQLite files (the
    password in a query option), and garbage."""
    secret = PASSWORD + draw(st.text(string.ascii_letters + string.digits, max_size=4))
    shape = draw(st.sampled_from(["server", "server", "sqlite", "noise"]))
    if shape == "server":
        separator = draw(st.sampled_from(["://"] * 4 + [":/", ":", "//", ":///"]))
        user = draw(st.sampled_from(["u", "u", "", "user name", "ü"]))
        return f"{draw(URL_SCHEMES)}{separator}{user}:{secret}@{draw(URL_HOSTS)}{draw(URL_TAILS)}"
    if shape == "sqlite":
        name = draw(st.from_regex(r"[a-z][a-z0-9_.-]{0,8}", fullmatch=True))
        option = draw(st.sampled_from(["timeout=5", "timeout=abc", "mode=ro&uri=true", "x=1"]))
        return f"sqlite:///{name}.db?{option}&password={secret}"
    noise = draw(
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=20)
    )
    at = draw(st.integers(0, len(noise)))
    return noise[:at] + secret + noise[at:]


def _malformed(url: str) -> bool:
    """True when the URL does not parse or names no database SQLAlchemy knows."""
    try:
        parsed = sa.engine.make_url(url)
        parsed.get_dialect()
    except ImportError:
        return False  # a known database whose driver is missing: a missing tool, exit 3
    except Exception:  # anything that does not parse
        return True
    return False


@FEW
@given(url=database_urls())
@example(url=f"garbage{PASSWORD}")
@example(url=f"foo://u:{PASSWORD}@127.0.0.1:1/db")
@example(url=f"postgresql://u:{PASSWORD}@127.0.0.1:notaport/db")
@example(url=f"sqlite://u:{PASSWORD}@/x.db")
@example(url=f"postgresql+psycopg://u:{PASSWORD}@[::1/db")
@example(url=f"postgresql+psycopg://u:{PASSWORD}@127.0.0.1:1/db?connect_timeout=abc")
def test_database_url_is_exit_2_or_3_on_one_line_without_the_password(url: str) -> None:
    with scratch() as tmp:
        root, state = tmp / "repo", tmp / "state"
        root.mkdir()
        result = _invoke(["history", "dev"], root, state, SHIPRAIL_DATABASE_URL=url)
        assert PASSWORD not in result.output, result.output
        assert_clean_ending(result)
        assert result.exit_code in (0, 2, 3), result.output
        if _malformed(url.strip()):
            assert result.exit_code == 2, result.output
        if not url.strip().startswith("sqlite"):
            assert result.exit_code != 0, result.output
            assert not state.exists() or not any(state.iterdir())


ARGUMENTS = st.lists(
    st.sampled_from(["--json", "--help", "--debug", "-x", "--", "dev", "prod", "", "--limit"])
    | st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12),
    max_size=3,
)


@FEW
@given(command=st.sampled_from([["status"], ["history"], ["doctor", "--help"]]), extra=ARGUMENTS)
@example(command=["history"], extra=["a\u2028b"])
@example(command=["history"], extra=["--", "-x"])
def test_cli_arguments_end_in_a_clean_exit(command: list[str], extra: list[str]) -> None:
    with scratch() as tmp:
        root, state = tmp / "repo", tmp / "state"
        root.mkdir()
        result = _invoke([*command, *extra], root, state)
        assert result.exit_code in (0, 2), result.output
        assert_clean_ending(result)
        assert _ledger_rows(state) == 0
