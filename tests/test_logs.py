"""Structured log lines with a request id; nothing secret in them."""
import logging
import re

import pytest

from portal.logs import mask

LINE = re.compile(r"^ts=\S+ \S+ level=(\w+) logger=(\S+) id=(\S+) msg=(.*)$")


@pytest.mark.parametrize("text, masked", [
    ("password=hunter2", "password=***"),
    ("password: hunter2", "password: ***"),
    ('{"access_token": "eyJabc", "expires_in": 3600}', '{"access_token": "***", "expires_in": 3600}'),
    ("refresh_token=r-123&grant_type=refresh_token", "refresh_token=***&grant_type=refresh_token"),
    ("Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer ***"),
    ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
    ("client_secret='shh'", "client_secret='***'"),
    ("GET /integrations/callback?code=abc123&state=xyz", "GET /integrations/callback?code=***&state=***"),
    ("code_verifier=verif", "code_verifier=***"),
    ("run 42 exported 1000 rows", "run 42 exported 1000 rows"),
    # Words in prose are not secrets: only a value a ``:`` or ``=`` gives the key is masked.
    ("sign-in refused (unknown e-mail, wrong password or inactive user)",
     "sign-in refused (unknown e-mail, wrong password or inactive user)"),
    ("POST /sandbox/connect/token -> 200", "POST /sandbox/connect/token -> 200"),
    ("Refreshed the tokens of integration account 3", "Refreshed the tokens of integration account 3"),
    ("grant_type=refresh_token&refresh_token=r-123", "grant_type=refresh_token&refresh_token=***"),
    ("POST /connect/token?client_secret=s3cr3t&code=abc", "POST /connect/token?client_secret=***&code=***"),
    # A quoted value is masked to its closing quote (a dict's repr, JSON), spaces and all.
    ("{'Authorization': 'Bearer eyJ.a.b', 'Accept': 'application/json'}",
     "{'Authorization': 'Bearer ***', 'Accept': 'application/json'}"),
    ('{"password": "two words", "user": "anna"}', '{"password": "***", "user": "anna"}'),
    ("headers: Cookie: session=abc123", "headers: Cookie: ***"),
])
def test_mask(text, masked):
    assert mask(text) == masked


def test_sign_in_logs_no_password_and_every_line_is_structured_with_a_request_id(client, auth, capsys):
    capsys.readouterr()
    secret = "Sup3r-secret-passw0rd"
    auth.login("staff", password=secret)           # a wrong one: it must not appear either
    client.get("/auth/login?password=" + secret)   # nor when put in a URL
    auth.login("staff")
    err = capsys.readouterr().err
    assert secret not in err
    lines = [line for line in err.splitlines() if line.startswith("ts=")]
    assert lines
    requests = [LINE.match(line) for line in lines if "logger=portal " in line]
    assert all(requests), lines
    assert any(m.group(4) == "POST /auth/login -> 302" for m in requests)
    assert "level=WARNING logger=portal.auth.views" in err and "sign-in refused" in err
    assert re.search(r"level=INFO logger=portal.auth.views id=[0-9a-f]{12} msg=signed in: user \d+", err)
    assert all(re.fullmatch(r"[0-9a-f]{12}", m.group(3)) for m in requests)


def test_app_log_lines_are_masked(app, capsys):
    capsys.readouterr()
    with app.test_request_context("/"):
        app.logger.info("token refreshed: access_token=%s", "eyJ-very-secret")
    err = capsys.readouterr().err
    assert "eyJ-very-secret" not in err and "access_token=***" in err


def test_request_id_is_returned_and_a_harmless_incoming_id_kept(client, capsys):
    response = client.get("/health", headers={"X-Request-Id": "lb-1234"})
    assert response.headers["X-Request-Id"] == "lb-1234"
    assert "id=lb-1234 msg=GET /health -> 200" in capsys.readouterr().err
    # An id that could forge log lines is replaced.
    response = client.get("/health", headers={"X-Request-Id": "x level=ERROR fake"})
    assert re.fullmatch(r"[0-9a-f]{12}", response.headers["X-Request-Id"])


def log_from_a_job():
    logging.getLogger("portal.jobs").info("working")


def test_job_id_is_used_outside_requests(app, capsys):
    from rq import SimpleWorker

    from portal.logs import ContextFilter
    from portal.queue import queue
    record = logging.LogRecord("portal", logging.INFO, __file__, 1, "hello", None, None)
    ContextFilter().filter(record)
    assert record.request_id == "-"
    # In a real worker (in this process, on the real Redis) each line carries the job's id.
    with app.app_context():
        job = queue("default").enqueue(log_from_a_job)
        SimpleWorker([queue("default")], connection=queue("default").connection).work(burst=True)
    assert f"id=job:{job.id} msg=working" in capsys.readouterr().err
