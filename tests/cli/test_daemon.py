"""`verify daemon` refuses settings that cannot work: a clear message, exit 2, nothing started."""

from __future__ import annotations

import pytest

from tests.conftest import run_verify


@pytest.mark.parametrize("args, env, message", [
    ([], {}, "ange minst en --source"),
    (["--source", "nosuch:thing"], {}, "okänt källschema 'nosuch'"),
    (["--source", "serial:/dev/null", "--region", "atlantis"], {}, "okänd region"),
    (["--source", "serial:/dev/null", "--http", "0.0.0.0:8765"], {}, "ange --token"),
    (["--source", "serial:/dev/null", "--http", "0.0.0.0:8765", "--token", "short"], {},
     "minst 16 tecken"),
    (["--source", "serial:/dev/null", "--audit-log", "audit.jsonl", "--http", "off"], {},
     "VERIFY_AUDIT_KEY"),
    (["--source", "serial:/dev/null", "--config", "/nonexistent/daemon.toml"], {},
     "inställningsfilen /nonexistent/daemon.toml finns inte"),
    (["--source", "serial:/dev/null", "--clear-after", "0"], {}, "clear_after"),
])
def test_bad_settings_exit_2_with_a_reason(args, env, message, tmp_path):
    result = run_verify("daemon", *args, env=env, timeout=30)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
