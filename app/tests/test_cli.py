"""The ``workorders`` command."""

from __future__ import annotations

import hashlib
import io

from workorders import cli, migrate


def test_hash_token_prints_sha256(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-token\n"))
    assert cli.main(["hash-token"]) == 0
    assert capsys.readouterr().out.strip() == hashlib.sha256(b"s3cret-token").hexdigest()


def test_hash_token_refuses_empty_input(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert cli.main(["hash-token"]) == 2
    assert "empty token" in capsys.readouterr().err


def test_migrate_up_and_down(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("WORKORDERS_DATABASE_URL", url)
    assert cli.main(["migrate"]) == 0
    assert "revision 0001" in capsys.readouterr().err
    assert cli.main(["migrate", "--downgrade", "base"]) == 0
    assert migrate.current_revision(url) is None


def test_bad_settings_exit_2_with_a_message(monkeypatch, capsys):
    monkeypatch.setenv("WORKORDERS_ENV", "prod")
    monkeypatch.delenv("WORKORDERS_API_TOKEN_HASHES", raising=False)
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "refusing to start in prod" in err
    assert "Traceback" not in err
