"""The hostile-request generator for test_hostile.py: seeded, deterministic, one `Case` per
malformed or hostile request, each with the path whose dialect its error must speak.

Classes: bad JSON (fixed and seeded mutations), wrong types and missing fields, field
validation, duplicate keys, deep nesting, huge member counts, invalid UTF-8 and NUL bytes,
header abuse and framing (Content-Length, chunked), huge targets, garbage on the wire, wrong
content types, oversize bodies, wrong methods and unknown paths.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

SEED = 20261202
# The gateway's max_body_bytes in the hostile config; oversize cases exceed it.
MAX_BODY = 4 * 1024 * 1024

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
