"""Hostile input against a live gateway: the real `switchyard serve` in front of `switchyard sim`.

A seeded generator (hostile_cases.py) builds malformed and hostile requests — bad JSON, wrong types, duplicate
keys, deep nesting, huge member counts, invalid UTF-8, NUL bytes, header abuse, wrong methods,
huge targets, oversize bodies, wrong content types, truncated chunked bodies, garbage on the
wire — and sends each over a raw socket (no HTTP library would send most of them). Every
answer must be a 4xx, JSON in the caller's dialect (Anthropic's shape under /v1/messages,
OpenAI's elsewhere) with a non-empty message, within 2 s. Slow clients must be cut off by the
server's timeouts, and the gateway's RSS must stay bounded afterwards.

The gateway here is its own process (the session's sim, a tight `[server]` config), so its
timeouts are short and its memory is measured on hostile traffic alone.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from conftest import GATEWAY_CONFIG, _spawn, _wait_ready
from hostile_cases import CASES, CHAT, MAX_BODY, MESSAGES, Case, raw_request, valid

ANSWER_WITHIN_S = 2.0
HEADER_TIMEOUT_MS = 800
BODY_TIMEOUT_MS = 800
# The gateway's resident memory after the suite, at most, and how much a second pass of every
# case may add to it (more would be a leak, not allocator caches warming up).
RSS_LIMIT_MB = 256
RSS_SECOND_PASS_GROWTH_MB = 16

SERVER = f"""[server]
listen = "127.0.0.1:0"
max_body_bytes = {MAX_BODY}
header_timeout_ms = {HEADER_TIMEOUT_MS}
body_timeout_ms = {BODY_TIMEOUT_MS}
idle_timeout_ms = 2000
max_connections = 512
shutdown_grace_ms = 2000
"""

# ---------------------------------------------------------------- the gateway


@dataclass
class Live:
    url: str
    host: str
    port: int
    pid: int


@pytest.fixture(scope="module")
def live(switchyard_bin, workdir, sim_url):
    ledger = workdir / "hostile.db"
    cfg = workdir / "hostile.toml"
    base = GATEWAY_CONFIG.format(max_body=MAX_BODY, ledger=ledger, sim_url=sim_url)
    cfg.write_text(re.sub(r"\[server\]\n(?:[^\[\n][^\n]*\n)*", SERVER, base, count=1))
    # mimalloc returns freed pages at once instead of after its default delay, so RSS
    # measures what the gateway holds, not what the allocator kept for later (±20 MB of
    # multi-MB bodies otherwise, which would hide a leak or fail the check by chance).
    env = dict(os.environ, SIM_API_KEY="sim-test-key", MIMALLOC_PURGE_DELAY="0")
    proc = _spawn(
        "hostile-gateway",
        [str(switchyard_bin), "serve", "--config", str(cfg)],
        workdir / "hostile-gateway.log",
        env,
    )
    try:
        m = proc.wait_for_line(re.compile(r"^switchyard listening on (http://\S+?)/?$"), 30)
        url = m.group(1)
        _wait_ready(url, proc)
        host, port = url.removeprefix("http://").rsplit(":", 1)
        yield Live(url=url, host=host, port=int(port), pid=proc.popen.pid)
    finally:
        proc.stop()


# ---------------------------------------------------------------- a raw client


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float


class NoAnswer(Exception):
    pass


def _read_answer(sock: socket.socket, deadline: float) -> tuple[int, dict[str, str], bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout as e:
            raise NoAnswer(f"no answer within {ANSWER_WITHIN_S}s (got {buf[:80]!r})") from e
        except ConnectionError as e:
            raise NoAnswer(f"connection reset before an answer ({e!r}, got {buf[:80]!r})") from e
        if not chunk:
            raise NoAnswer(f"connection closed without an answer (got {buf[:80]!r})")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, ConnectionError) as e:
            raise NoAnswer(f"body cut at {len(rest)}/{length} bytes") from e
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def exchange(live: Live, raw: bytes, *, half_close: bool = False) -> Answer:
    """Writes `raw` whole (as `requests` and `http.client` do), then reads one answer."""
    start = time.monotonic()
    deadline = start + ANSWER_WITHIN_S
    with socket.create_connection((live.host, live.port), timeout=ANSWER_WITHIN_S) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            s.sendall(raw)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise NoAnswer(f"the gateway reset the connection while the request was sent: {e!r}")
        status, headers, body = _read_answer(s, deadline)
    return Answer(status, headers, body, time.monotonic() - start)



def _param(case: Case):
    return pytest.param(case, id=case.name)


# ---------------------------------------------------------------- the assertions


def assert_dialect_error(answer: Answer, path: str) -> None:
    assert answer.headers.get("content-type", "").startswith("application/json"), answer
    assert answer.body, f"empty body: {answer}"
    body = json.loads(answer.body)
    if path.startswith("/v1/messages"):
        assert body.get("type") == "error", body
        err = body["error"]
        assert isinstance(err.get("type"), str) and err["type"], body
    else:
        err = body["error"]
        assert isinstance(err.get("type"), str) and err["type"], body
        assert "param" in err and "code" in err, body
    assert isinstance(err.get("message"), str) and err["message"].strip(), body


@pytest.fixture(scope="module")
def rss_before(live) -> int:
    # Warm the gateway first so the baseline includes its steady allocations.
    for _ in range(5):
        exchange(live, raw_request("POST", CHAT, json.dumps(valid(CHAT)).encode()))
    return _rss_kb(live.pid)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_hostile_request_gets_a_4xx_json_error_in_its_dialect_quickly(live, rss_before, case):
    answer = exchange(live, case.raw, half_close=case.half_close)
    assert 400 <= answer.status < 500, f"{case.name}: {answer.status} {answer.body[:300]!r}"
    if case.expect:
        assert answer.status in case.expect, f"{case.name}: {answer.status} {answer.body[:300]!r}"
    assert answer.elapsed < ANSWER_WITHIN_S, f"{case.name} took {answer.elapsed:.2f}s"
    assert_dialect_error(answer, case.path)


def _trickle(live: Live, payload: bytes, results: list, i: int) -> None:
    """Sends one byte every 100 ms; records when the server cut the connection."""
    start = time.monotonic()
    try:
        with socket.create_connection((live.host, live.port), timeout=5) as s:
            s.settimeout(0.1)
            for b in payload:
                if time.monotonic() - start > 4:
                    break
                s.sendall(bytes([b]))
                try:
                    if s.recv(4096) == b"":
                        break
                except socket.timeout:
                    pass
            else:
                s.settimeout(4)
                s.recv(4096)
    except OSError:
        pass
    results[i] = time.monotonic() - start


def test_slow_clients_are_cut_off_by_the_header_and_body_timeouts(live, rss_before):
    head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: g\r\nx-pad: " + b"a" * 200
    body = b"POST /v1/chat/completions HTTP/1.1\r\nhost: g\r\ncontent-length: 500\r\n\r\n"
    payloads = [head] * 150 + [body + b" " * 400] * 50
    results = [None] * len(payloads)
    threads = []
    for i, p in enumerate(payloads):
        # The body tricklers send their head at once, then trickle.
        t = threading.Thread(target=_trickle_body if p.startswith(body) else _trickle,
                             args=(live, p, results, i), daemon=True)
        threads.append(t)
        t.start()
    time.sleep(0.2)
    ok = exchange(live, raw_request("POST", CHAT, json.dumps(valid(CHAT)).encode()))
    assert ok.status == 200, ok
    for t in threads:
        t.join(timeout=6)
    limit = max(HEADER_TIMEOUT_MS, BODY_TIMEOUT_MS) / 1000 + 1.0
    slow = [r for r in results if r is None or r > limit]
    assert not slow, f"{len(slow)} slow clients held on past {limit}s: {slow[:5]}"


def _trickle_body(live: Live, payload: bytes, results: list, i: int) -> None:
    """Sends a head at once, then its body a byte every 100 ms; records when the 408 came."""
    head, _, rest = payload.partition(b"\r\n\r\n")
    start = time.monotonic()
    got = b""
    try:
        with socket.create_connection((live.host, live.port), timeout=5) as s:
            s.sendall(head + b"\r\n\r\n")
            s.settimeout(0.1)
            for b in rest:
                if time.monotonic() - start > 4:
                    break
                s.sendall(bytes([b]))
                try:
                    got += s.recv(4096)
                except socket.timeout:
                    continue
                if got:
                    break
    except OSError:
        pass
    results[i] = time.monotonic() - start if got.startswith(b"HTTP/1.1 408") else None


def test_http_client_and_requests_see_the_413_for_an_oversize_body_they_send_whole(live):
    # Both write the whole body before reading; the gateway must drain it, not reset.
    # (`http.client` then fails outright on a reset; urllib3, under `requests`, tries to read
    # an answer after a broken pipe.)
    big = b"x" * (3 * MAX_BODY)
    for path in (CHAT, MESSAGES):
        conn = http.client.HTTPConnection(live.host, live.port, timeout=10)
        conn.request("POST", path, body=big, headers={"content-type": "application/json"})
        r = conn.getresponse()
        assert r.status == 413 and b"max_body_bytes" in r.read()
        conn.close()
        r = requests.post(live.url + path, data=big, timeout=10,
                          headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        assert "max_body_bytes" in r.text


def _one_pass(live: Live) -> int:
    for case in CASES:
        try:
            exchange(live, case.raw, half_close=case.half_close)
        except NoAnswer:
            pass  # the first pass already asserted on every answer
    return _rss_kb(live.pid)


def test_rss_stays_bounded_after_the_hostile_suite(live, rss_before):
    after = _rss_kb(live.pid)
    # More passes of every case must not keep adding memory: a leak grows every pass.
    settled = _one_pass(live)
    again = _one_pass(live)
    print(f"gateway RSS: {rss_before / 1024:.1f} MB warm, {after / 1024:.1f} MB after the suite, "
          f"{settled / 1024:.1f} / {again / 1024:.1f} MB after a second / third pass")
    assert max(after, settled, again) / 1024 < RSS_LIMIT_MB, f"RSS {again / 1024:.1f} MB"
    growth = (again - max(after, settled)) / 1024
    assert growth < RSS_SECOND_PASS_GROWTH_MB, f"a third pass added {growth:.1f} MB over the most the first two held"
    ok = exchange(live, raw_request("POST", CHAT, json.dumps(valid(CHAT)).encode()))
    assert ok.status == 200
