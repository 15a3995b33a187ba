"""The logging of the service and the workers: lines, fields, formats and what never shows."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from generator import logs


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Configure the logging into a buffer; leave the root logger as it was afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    buffer = io.StringIO()
    logs.configure("info", "plain", stream=buffer)
    try:
        yield buffer
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ('POST http://127.0.0.1:5/hook?token=abc123&x=1 "HTTP/1.1 204"', "/hook?***", "abc123"),
        ("GET /v1/jobs?callback=https://e.example/cb?sig=zz9 202", "/v1/jobs?***", "zz9"),
        ("broker redis://:hunter2@10.0.0.5:6379/0", "redis://:***@10.0.0.5", "hunter2"),
        ("Authorization: Bearer s3cr3t-value", "Authorization: ***", "s3cr3t"),
        ("[(b'authorization', b'Bearer s3cr3t-value')]", "authorization", "s3cr3t"),
        ("Cookie: contractgen_session=abcdef; other=1", "Cookie: ***", "abcdef"),
        ("token=t0ps3cret and more", "token=*** and more", "t0ps3cret"),
        ('{"password": "pw-1234", "user": "a"}', '"user": "a"', "pw-1234"),
        ("api_key: k-99887766", "api_key: ***", "k-99887766"),
    ],
)
def test_redaction(text: str, kept: str, gone: str) -> None:
    redacted = logs.redact(text)
    assert kept in redacted and gone not in redacted, redacted


def test_plain_lines_carry_time_level_and_the_context_s_fields(lines: io.StringIO) -> None:
    log = logging.getLogger("contractgen.test")
    with logs.bound(request_id="req-1"):
        logs.add(job_id="job-9", contract_no="NO 1")  # learned later: the context gets it
        log.info("job created")
        seen: list[str] = []
        thread = threading.Thread(target=lambda: seen.append(str(logs.current())))
        thread.start()  # a new thread starts empty: anyio's copy the context, this one not
        thread.join()
    log.warning("outside: %s", "Authorization: Bearer abcdef123")
    first, second = lines.getvalue().splitlines()
    stamp, level, name, *rest = first.split(" ")
    assert stamp.endswith("Z") and "T" in stamp and level == "INFO"
    assert name == "contractgen.test:"
    assert " ".join(rest) == 'job created request_id=req-1 job_id=job-9 contract_no="NO 1"'
    assert seen == ["{}"]
    assert second.endswith("outside: Authorization: ***")
    assert "request_id" not in second


def test_json_lines_and_exceptions_are_redacted(lines: io.StringIO) -> None:
    handlers = len(logging.getLogger().handlers)
    logs.configure("warning", "json", stream=lines)  # again: replaces the earlier handler
    assert len(logging.getLogger().handlers) == handlers
    log = logging.getLogger("contractgen.test")
    log.info("not at warning")
    with logs.bound(job_id="j-1", task_id="t-1"):
        try:
            raise RuntimeError("callback to http://h/cb?key=leak-me failed")
        except RuntimeError:
            log.exception("callbacks")
    (line,) = lines.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "contractgen.test"
    assert entry["message"] == "callbacks"
    assert (entry["job_id"], entry["task_id"]) == ("j-1", "t-1")
    assert "RuntimeError" in entry["exception"] and "leak-me" not in line


def test_libraries_that_would_log_what_must_not_are_held(lines: io.StringIO) -> None:
    logs.configure("debug", "plain", stream=lines)
    logging.getLogger("httpx").info("HTTP Request: POST http://h/cb?key=1")
    logging.getLogger("celery.concurrency.base").debug("TaskPool: Apply (args:({'amount': 1},))")
    logging.getLogger("contractgen.test").debug("shown")
    assert lines.getvalue().splitlines()[-1].endswith("contractgen.test: shown")
    assert "amount" not in lines.getvalue() and "HTTP Request" not in lines.getvalue()


def test_a_bad_level_or_format_is_refused() -> None:
    with pytest.raises(ValueError, match="log level"):
        logs.configure("loud")
    with pytest.raises(ValueError, match="log format"):
        logs.configure("info", "xml")
