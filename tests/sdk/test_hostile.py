"""Hostile input against a live gateway: the real `switchyard serve` in front of `switchyard sim`.

A seeded generator builds malformed and hostile requests — bad JSON, wrong types, duplicate
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
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from conftest import GATEWAY_CONFIG, _spawn, _wait_ready

SEED = 20261202
ANSWER_WITHIN_S = 2.0
MAX_BODY = 4 * 1024 * 1024
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

# Cases that pass only with issue #10 items 11, 16 and 17 (member caps and a linear
# duplicate-key check, field validation, NUL and long strings), fixed on another branch.
# Remove names from these sets as those fixes land; the suite then holds them too.
# Not even run before then: each one takes seconds of CPU on both cores (the quadratic
# duplicate-key check), which would stall the cases that follow.
TOO_COSTLY_BEFORE_ITEM_11 = {"members-100k-chat", "members-100k-messages"}
AWAITS_OTHER_ITEMS = TOO_COSTLY_BEFORE_ITEM_11 | {
    "field-logit_bias-string",
    "field-top_logprobs-99",
    "field-image_url-malformed",
    "field-tool_calls-string",
    "field-anthropic-tool-name-spaces",
    "field-anthropic-input_schema-string",
    "field-anthropic-top_k-0",
    "field-embeddings-input-empty",
    "field-embeddings-user-number",
    "dup-count_tokens",
    "nul-model",
}


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
    env = dict(os.environ, SIM_API_KEY="sim-test-key")
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


# ---------------------------------------------------------------- the generator


@dataclass
class Case:
    name: str
    raw: bytes
    path: str
    half_close: bool = False
    expect: set[int] = field(default_factory=set)  # empty: any 4xx


def raw_request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    h = {"host": "gateway", "content-type": "application/json"}
    h.update(headers or {})
    if "transfer-encoding" not in h and body is not None:
        h.setdefault("content-length", str(len(body)))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
    return head.encode("latin-1") + b"\r\n" + body


CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
EMBED = "/v1/embeddings"
COUNT = "/v1/messages/count_tokens"
POSTS = (CHAT, MESSAGES, EMBED, COUNT)


def valid(path: str) -> dict:
    if path == EMBED:
        return {"model": "embed", "input": "hello"}
    if path in (MESSAGES, COUNT):
        return {"model": "claude", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    return {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}


def post(name: str, path: str, body: bytes, expect=(), **kw) -> Case:
    return Case(name, raw_request("POST", path, body, kw.get("headers")), path, expect=set(expect))


def bad_json(rng: random.Random) -> list[Case]:
    out = []
    for path in POSTS:
        text = json.dumps(valid(path)).encode()
        fixed = {
            "truncated": text[: len(text) // 2],
            "trailing": text + b" garbage",
            "empty": b"",
            "array": b"[]",
            "null": b"null",
            "string": b'"hello"',
            "number": b"12",
            "single-quotes": text.replace(b'"', b"'"),
            "bom": b"\xef\xbb\xbf" + text,
            "comment": b"/* hi */" + text,
            "nan": text[:-1] + b',"temperature":NaN}',
        }
        for label, body in fixed.items():
            out.append(post(f"json-{label}-{path}", path, body, [400]))
        # Seeded mutations: flip, drop or insert bytes in a valid body until it no longer parses.
        for i in range(12):
            b = bytearray(text)
            for _ in range(rng.randint(1, 4)):
                pos = rng.randrange(len(b))
                op = rng.choice(("flip", "drop", "insert"))
                if op == "flip":
                    b[pos] = rng.choice(b'{}[]:,"\\')
                elif op == "drop":
                    del b[pos]
                else:
                    b.insert(pos, rng.choice(b'{}[]:,"\\\x00\x7f'))
            try:
                json.loads(bytes(b))
                continue  # still valid JSON: not a malformed case
            except (ValueError, UnicodeDecodeError):
                pass
            out.append(post(f"json-mutant{i}-{path}", path, bytes(b), [400]))
    return out


def wrong_types() -> list[Case]:
    subs = {
        CHAT: [("model", 123), ("messages", "x"), ("messages", [1]), ("max_tokens", "ten"),
               ("temperature", "hot"), ("stream", "yes"), ("tools", {}), ("messages", None),
               ("n", -1), ("messages", [{"role": "robot", "content": "hi"}]),
               ("messages", [{"role": "user", "content": 5}])],
        MESSAGES: [("model", []), ("max_tokens", "16"), ("messages", {}), ("system", 5),
                   ("stream", 1), ("messages", [{"role": "robot", "content": "hi"}]),
                   ("max_tokens", -5)],
        EMBED: [("input", 5), ("input", [[]]), ("model", None), ("encoding_format", "hex")],
    }
    out = []
    for path, pairs in subs.items():
        for key, value in pairs:
            body = dict(valid(path), **{key: value})
            out.append(post(f"type-{key}-{json.dumps(value)}-{path}", path, json.dumps(body).encode()))
    missing = [(CHAT, "messages"), (CHAT, "model"), (MESSAGES, "max_tokens"), (EMBED, "input")]
    for path, key in missing:
        body = {k: v for k, v in valid(path).items() if k != key}
        out.append(post(f"missing-{key}-{path}", path, json.dumps(body).encode()))
    return out


def field_validation() -> list[Case]:
    """Issue #10 item 16: fields the gateway models, with invalid values."""
    chat, msg = valid(CHAT), valid(MESSAGES)
    tool = {"name": "get weather", "description": "d", "input_schema": {"type": "object"}}
    cases = {
        "field-logit_bias-string": (CHAT, dict(chat, logit_bias="x")),
        "field-top_logprobs-99": (CHAT, dict(chat, logprobs=True, top_logprobs=99)),
        "field-image_url-malformed": (CHAT, dict(chat, messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": 7}]}])),
        "field-tool_calls-string": (CHAT, dict(chat, messages=[
            {"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": "x"}])),
        "field-anthropic-tool-name-spaces": (MESSAGES, dict(msg, tools=[tool])),
        "field-anthropic-input_schema-string": (MESSAGES, dict(msg, tools=[
            dict(tool, name="t", input_schema="x")])),
        "field-anthropic-top_k-0": (MESSAGES, dict(msg, top_k=0)),
        "field-embeddings-input-empty": (EMBED, {"model": "embed", "input": ""}),
        "field-embeddings-user-number": (EMBED, {"model": "embed", "input": "x", "user": 5}),
    }
    return [post(name, path, json.dumps(body).encode(), [400]) for name, (path, body) in cases.items()]


def duplicates_nesting_members() -> list[Case]:
    out = []
    for path in (CHAT, MESSAGES, EMBED):
        text = json.dumps(valid(path))
        dup = '{"model":"x",' + text[1:]
        out.append(post(f"dup-model-{path}", path, dup.encode(), [400]))
        deep = '{"model":"chat","messages":' + "[" * 5000 + "]" * 5000 + "}"
        out.append(post(f"deep-array-{path}", path, deep.encode(), [400]))
        deep_obj = '{"model":"chat","x":' + '{"a":' * 3000 + "1" + "}" * 3000 + "}"
        out.append(post(f"deep-object-{path}", path, deep_obj.encode(), [400]))
    count = json.dumps(valid(COUNT))
    out.append(post("dup-count_tokens", COUNT, ('{"model":"x",' + count[1:]).encode(), [400]))
    # Many members and no `messages`: refused either way, and it must be quick.
    members = "{" + ",".join(f'"k{i}":0' for i in range(100_000)) + "}"
    out.append(post("members-100k-chat", CHAT, members.encode(), [400]))
    out.append(post("members-100k-messages", MESSAGES, members.encode(), [400]))
    return out


def bytes_and_strings() -> list[Case]:
    out = []
    for path in (CHAT, MESSAGES):
        text = json.dumps(valid(path)).encode()
        out.append(post(f"utf8-invalid-{path}", path, text.replace(b"hi", b"h\xff\xfei"), [400]))
        out.append(post(f"utf8-surrogate-{path}", path, text.replace(b"hi", b"\xed\xa0\x80"), [400]))
        out.append(post(f"nul-raw-{path}", path, text.replace(b"hi", b"h\x00i"), [400]))
    nul_model = dict(valid(CHAT), model="ch\u0000at")
    out.append(post("nul-model", CHAT, json.dumps(nul_model).encode(), [400]))
    return out


def headers_and_framing() -> list[Case]:
    out = []
    body = json.dumps(valid(CHAT)).encode()
    for path in (CHAT, MESSAGES):
        line = f"POST {path} HTTP/1.1\r\nhost: g\r\n"
        raw = {
            "hdr-control-char": line + "x-bad: a\x01b\r\n\r\n",
            "hdr-nul": line + "x-bad: a\x00b\r\n\r\n",
            "hdr-no-colon": line + "garbage line\r\n\r\n",
            "hdr-space-in-name": line + "x bad: 1\r\n\r\n",
            "hdr-obs-fold": line + "x-a: 1\r\n folded\r\n\r\n",
            "hdr-huge": line + "x-big: " + "b" * 70_000 + "\r\n\r\n",
            "hdr-many": line + "".join(f"x-h{i}: v\r\n" for i in range(150)) + "\r\n",
            "cl-twice": line + "content-length: 5\r\ncontent-length: 7\r\n\r\nhello",
            "cl-negative": line + "content-length: -1\r\n\r\n",
            "cl-text": line + "content-length: ten\r\n\r\n",
            "cl-and-te": line + "content-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
            "te-unknown": line + "transfer-encoding: gzip\r\n\r\nabc",
        }
        for label, text in raw.items():
            out.append(Case(f"{label}-{path}", text.encode("latin-1"), path))
        chunked = line + "transfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n"
        out.append(Case(f"chunked-truncated-{path}",
                        (chunked + "64\r\n" + '{"model":').encode(), path, half_close=True))
        out.append(Case(f"chunked-bad-size-{path}", (chunked + "zz\r\nabc\r\n0\r\n\r\n").encode(), path))
        out.append(Case(f"chunked-no-terminator-{path}",
                        (chunked + "5\r\nhello\r\n").encode(), path, half_close=True))
    for path in (CHAT, MESSAGES):
        out.append(Case(f"uri-20k-{path}", raw_request("GET", path + "?q=" + "a" * 20_000), path, expect={414}))
        out.append(Case(f"uri-70k-{path}", raw_request("GET", path + "?q=" + "a" * 70_000), path, expect={431}))
    out.append(Case("version-bogus", b"POST /v1/chat/completions HTTP/9.9\r\nhost: g\r\n\r\n", CHAT))
    out.append(Case("method-bogus", b"P@ST /v1/chat/completions HTTP/1.1\r\nhost: g\r\n\r\n", CHAT))
    out.append(Case("tls-on-plain-port", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64), "/"))
    out.append(Case("garbage-line", b"\x00\x01\x02 hello\r\n\r\n", "/"))
    for ct in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        out.append(post(f"ctype-{ct.split(';')[0]}", CHAT, b"a=1&b=2", [400], headers={"content-type": ct}))
    out.append(post("oversize-declared", CHAT, b"x" * (MAX_BODY + 10), [413]))
    out.append(post("oversize-declared-messages", MESSAGES, b"x" * (MAX_BODY + 10), [413]))
    return out


def wrong_methods() -> list[Case]:
    table = {CHAT: "POST", EMBED: "POST", MESSAGES: "POST", COUNT: "POST", "/v1/models": "GET",
             "/healthz": "GET", "/admin/reload": "POST"}
    out = []
    for path, allowed in table.items():
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            if method != allowed:
                out.append(Case(f"method-{method}-{path}", raw_request(method, path, b""), path, expect={405}))
    for path in ("/v1/nope", "/v1/messages/nope", "/v1/chat/completions/x", "/%2e%2e/etc/passwd"):
        out.append(Case(f"unknown-{path}", raw_request("GET", path), path, expect={404}))
    return out


def all_cases() -> list[Case]:
    rng = random.Random(SEED)
    cases = (bad_json(rng) + wrong_types() + field_validation() + bytes_and_strings()
             + headers_and_framing() + wrong_methods() + duplicates_nesting_members())
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


CASES = all_cases()


def _param(case: Case):
    marks = []
    if case.name in AWAITS_OTHER_ITEMS:
        marks.append(pytest.mark.xfail(
            reason="needs issue #10 items 11/16/17 (another branch)",
            strict=False,
            run=case.name not in TOO_COSTLY_BEFORE_ITEM_11,
        ))
    return pytest.param(case, id=case.name, marks=marks)


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


def test_rss_stays_bounded_after_the_hostile_suite(live, rss_before):
    after = _rss_kb(live.pid)
    # A second pass of every case must not add more than allocator noise.
    for case in CASES:
        if case.name not in AWAITS_OTHER_ITEMS:
            try:
                exchange(live, case.raw, half_close=case.half_close)
            except NoAnswer:
                pass  # the first pass already asserted on every answer
    again = _rss_kb(live.pid)
    print(f"gateway RSS: {rss_before / 1024:.1f} MB warm, {after / 1024:.1f} MB after the suite, "
          f"{again / 1024:.1f} MB after a second pass")
    assert after / 1024 < RSS_LIMIT_MB, f"RSS {after / 1024:.1f} MB"
    growth = (again - after) / 1024
    assert growth < RSS_SECOND_PASS_GROWTH_MB, f"a second pass added {growth:.1f} MB"
    ok = exchange(live, raw_request("POST", CHAT, json.dumps(valid(CHAT)).encode()))
    assert ok.status == 200
