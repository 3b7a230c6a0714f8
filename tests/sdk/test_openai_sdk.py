"""Switchyard through the official `openai` Python SDK.

Everything here goes over real HTTP to a real gateway in front of the simulated provider
(see conftest.py), so these tests catch wire-format mistakes that unit tests cannot:
an SDK that fails to parse a response, or maps an error to the wrong exception, is a
broken gateway for every user of that SDK.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import openai
import pytest

from conftest import MAX_BODY_BYTES, ROUTES

USER_HELLO = [{"role": "user", "content": "Say hello"}]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": False,
        },
    },
}
# A second tool: the sim must pick the *first* one.
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {
            "type": "object",
            "properties": {"tz": {"type": "string"}},
            "required": ["tz"],
        },
    },
}

PERSON_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "age", "tags"],
    "additionalProperties": False,
}

EMBED_DIMS = 1536  # native size of text-embedding-3-small

DECIMAL = re.compile(r"^\d+(\.\d+)?$")


def check_schema(value, schema: dict, path: str = "$") -> None:
    """Assert `value` matches the small JSON Schema subset these tests use.
    Hand-rolled to avoid another dependency; raises AssertionError naming the path."""
    t = schema.get("type")
    types = {
        "object": dict,
        "array": list,
        "string": str,
        "boolean": bool,
        "number": (int, float),
    }
    if t == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: not an integer: {value!r}"
    elif t in types:
        assert isinstance(value, types[t]), f"{path}: expected {t}, got {value!r}"
        if t == "number":
            assert not isinstance(value, bool), f"{path}: expected number, got bool"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    if t == "object":
        for key in schema.get("required", []):
            assert key in value, f"{path}: missing required key {key!r} in {value!r}"
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            extra = set(value) - set(props)
            assert not extra, f"{path}: unexpected keys {extra}"
        for key, sub in props.items():
            if key in value:
                check_schema(value[key], sub, f"{path}.{key}")
    if t == "array" and "items" in schema:
        for i, item in enumerate(value):
            check_schema(item, schema["items"], f"{path}[{i}]")


def assert_openai_error_shape(body: dict) -> dict:
    """The gateway's errors are `{"error": {"message", "type", "param", "code"}}`."""
    assert set(body) == {"error"}, body
    err = body["error"]
    assert {"message", "type", "param", "code"} <= set(err), err
    assert isinstance(err["message"], str) and err["message"], err
    return err


# --------------------------------------------------------------------------- chat


def test_chat_non_streaming_with_headers(client):
    raw = client.chat.completions.with_raw_response.create(model="chat", messages=USER_HELLO)
    completion = raw.parse()

    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content, "empty content"
    assert choice.finish_reason == "stop"

    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

    h = raw.headers
    assert h.get("x-switchyard-request-id"), "missing request id"
    assert h.get("x-switchyard-route") == "chat"
    assert h.get("x-switchyard-provider") == "sim"
    assert h.get("x-switchyard-model") == "gpt-4o-mini"
    assert re.fullmatch(r"\d+", h.get("x-switchyard-overhead-us", "")), h.get("x-switchyard-overhead-us")
    cost = h.get("x-switchyard-cost-usd", "")
    # Money is an exact decimal: plain digits, never a float repr like 1e-05.
    assert DECIMAL.fullmatch(cost), f"cost header is not a plain decimal: {cost!r}"


def test_request_ids_are_unique(client):
    ids = {
        client.chat.completions.with_raw_response.create(model="chat", messages=USER_HELLO).headers[
            "x-switchyard-request-id"
        ]
        for _ in range(3)
    }
    assert len(ids) == 3, ids


def test_chat_streaming_with_usage(client):
    with client.chat.completions.with_streaming_response.create(
        model="chat",
        messages=USER_HELLO,
        stream=True,
        stream_options={"include_usage": True},
    ) as resp:
        assert resp.headers.get("content-type", "").startswith("text/event-stream")
        assert resp.headers.get("x-switchyard-route") == "chat"
        chunks = list(resp.parse())

    assert len(chunks) >= 2
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text, "no content deltas"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"], finishes

    # OpenAI semantics: exactly one usage chunk, last, with no choices.
    with_usage = [i for i, c in enumerate(chunks) if c.usage is not None]
    assert with_usage == [len(chunks) - 1], f"usage on chunks {with_usage} of {len(chunks)}"
    final = chunks[-1]
    assert final.choices == []
    assert final.usage.prompt_tokens > 0 and final.usage.completion_tokens > 0


def test_chat_streaming_without_usage_hides_usage_chunk(client):
    # The gateway asks upstream for usage (it needs it for the ledger) but must not leak
    # a usage chunk to a client that did not ask for one.
    stream = client.chat.completions.create(model="chat", messages=USER_HELLO, stream=True)
    chunks = list(stream)
    assert chunks, "no chunks"
    assert all(c.usage is None for c in chunks), [c.usage for c in chunks]
    assert all(c.choices for c in chunks), "an empty-choices (usage) chunk leaked through"
    assert "".join(c.choices[0].delta.content or "" for c in chunks)


# --------------------------------------------------------------------------- tools


def test_tool_call_then_tool_result(client):
    messages = [{"role": "user", "content": "What's the weather in Oslo?"}]
    first = client.chat.completions.create(
        model="chat", messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls and len(calls) >= 1
    call = calls[0]
    assert call.type == "function"
    assert call.id
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    check_schema(args, WEATHER_TOOL["function"]["parameters"])

    # Second turn: hand the tool result back; the last message is now role "tool",
    # so the model must answer with text.
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp": 4})},
    ]
    second = client.chat.completions.create(
        model="chat", messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
    )
    answer = second.choices[0]
    assert answer.finish_reason == "stop"
    assert answer.message.content
    assert not answer.message.tool_calls


def test_streaming_tool_call_reassembles(client):
    stream = client.chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "Weather in Lima for 3 days?"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    # Accumulate by tool-call index, the way SDK helpers and agents do.
    calls: dict[int, dict] = {}
    finish = None
    for chunk in stream:
        if not chunk.choices:
            continue
        ch = chunk.choices[0]
        for d in ch.delta.tool_calls or []:
            acc = calls.setdefault(d.index, {"id": None, "name": "", "arguments": ""})
            if d.id:
                acc["id"] = d.id
            if d.function and d.function.name:
                acc["name"] += d.function.name
            if d.function and d.function.arguments:
                acc["arguments"] += d.function.arguments
        finish = ch.finish_reason or finish

    assert finish == "tool_calls"
    assert list(calls) == [0], calls
    call = calls[0]
    assert call["id"], "tool call id never sent"
    assert call["name"] == "get_weather"
    check_schema(json.loads(call["arguments"]), WEATHER_TOOL["function"]["parameters"])


# --------------------------------------------------------------------------- structured output


def test_response_format_json_schema(client):
    completion = client.chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "Invent a person."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": PERSON_SCHEMA, "strict": True},
        },
    )
    content = completion.choices[0].message.content
    check_schema(json.loads(content), PERSON_SCHEMA)


def test_response_format_json_object(client):
    completion = client.chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "Reply in JSON."}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(completion.choices[0].message.content), dict)


# --------------------------------------------------------------------------- embeddings


def test_embeddings_default_base64(client):
    # Without encoding_format the SDK asks for base64 and decodes it itself.
    raw = client.embeddings.with_raw_response.create(model="embed", input=["hello", "world"])
    wire = json.loads(raw.text)
    assert isinstance(wire["data"][0]["embedding"], str), "gateway ignored encoding_format=base64"

    result = raw.parse()
    assert [d.index for d in result.data] == [0, 1]
    for d in result.data:
        assert len(d.embedding) == EMBED_DIMS
        assert all(isinstance(x, float) for x in d.embedding[:8])
    assert result.usage.prompt_tokens > 0


def test_embeddings_float(client):
    result = client.embeddings.create(model="embed", input="hello", encoding_format="float")
    vec = result.data[0].embedding
    assert len(vec) == EMBED_DIMS
    assert all(isinstance(x, float) for x in vec)
    assert any(x != 0.0 for x in vec), "all-zero embedding"


@pytest.mark.parametrize("encoding", ["float", None])
def test_embeddings_dimensions(client, encoding):
    kwargs = {"encoding_format": encoding} if encoding else {}
    result = client.embeddings.create(model="embed", input="hello", dimensions=256, **kwargs)
    assert len(result.data[0].embedding) == 256


# --------------------------------------------------------------------------- routing


def test_fallback_route_uses_second_target(client):
    raw = client.chat.completions.with_raw_response.create(model="fallback", messages=USER_HELLO)
    assert raw.parse().choices[0].message.content
    assert raw.headers.get("x-switchyard-route") == "fallback"
    assert raw.headers.get("x-switchyard-model") == "gpt-4o-mini"


def test_models_list_contains_routes(client):
    ids = {m.id for m in client.models.list()}
    missing = set(ROUTES) - ids
    assert not missing, f"routes missing from /v1/models: {missing} (got {ids})"


# --------------------------------------------------------------------------- errors


def test_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as exc:
        client.chat.completions.create(model="no-such-route", messages=USER_HELLO)
    message = exc.value.body["message"]
    # "chat" is too common a word to prove anything; look for the distinctive names.
    listed = [r for r in ROUTES if r != "chat" and r in message]
    assert listed, f"404 message does not list valid routes: {message!r}"


@pytest.mark.parametrize(
    "field,value,param",
    [
        ("messages", "not-a-list", "messages"),
        ("temperature", "hot", "temperature"),
        ("temperature", 5, "temperature"),  # out of range 0..2
        # Nested fields are named by JSON path.
        ("messages", [{"role": "tool", "content": "x"}], "messages[0].tool_call_id"),
    ],
    ids=["messages-not-list", "temperature-type", "temperature-range", "tool-without-id"],
)
def test_bad_field_is_bad_request(client, field, value, param):
    with pytest.raises(openai.BadRequestError) as exc:
        # extra_body overrides the typed argument, letting the SDK send an invalid value.
        client.chat.completions.create(model="chat", messages=USER_HELLO, extra_body={field: value})
    assert exc.value.param == param, exc.value.body


def test_malformed_json_is_bad_request(http):
    r = http.post(
        "/v1/chat/completions",
        content=b'{"model": "chat", "messages": [',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert_openai_error_shape(r.json())


def test_all_targets_rate_limited(client):
    with pytest.raises(openai.RateLimitError) as exc:
        client.chat.completions.create(model="ratelimited", messages=USER_HELLO)
    retry_after = exc.value.response.headers.get("retry-after")
    assert retry_after is not None, "429 without Retry-After"
    assert re.fullmatch(r"\d+", retry_after), retry_after


def test_upstream_failure_is_502(client):
    with pytest.raises(openai.InternalServerError) as exc:
        client.chat.completions.create(model="broken", messages=USER_HELLO)
    assert exc.value.status_code == 502
    assert_openai_error_shape(exc.value.response.json())


def test_body_too_large_is_413(client):
    big = "x" * (MAX_BODY_BYTES + 4096)
    with pytest.raises(openai.APIStatusError) as exc:
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": big}])
    assert exc.value.status_code == 413
    assert_openai_error_shape(exc.value.response.json())


# --------------------------------------------------------------------------- sim, Azure-style


def test_sim_azure_deployment_path(sim_url):
    # The Azure provider adapter depends on this path shape; check it with the real
    # Azure client talking straight to the sim.
    az = openai.AzureOpenAI(
        azure_endpoint=sim_url, api_key="x", api_version="2024-10-21", max_retries=0, timeout=30
    )
    try:
        completion = az.chat.completions.create(model="my-deployment", messages=USER_HELLO)
        assert completion.choices[0].message.content
    finally:
        az.close()


# --------------------------------------------------------------------------- ledger


def _export_records(gateway) -> list[dict]:
    result = gateway.run_cli("ledger", "export", "--format", "jsonl")
    assert result.returncode == 0, f"ledger export failed:\n{result.stderr}"
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _record_for(records: list[dict], request_id: str) -> dict | None:
    # Match on any top-level value so the test does not hinge on the column's name.
    for rec in records:
        if request_id in (v for v in rec.values() if isinstance(v, str)):
            return rec
    return None


def test_ledger_records_requests_with_workload(client, gateway):
    workload = f"sdk-ledger-{uuid.uuid4().hex[:8]}"
    tagged = {"x-switchyard-workload": workload, "x-switchyard-tags": "team=sdk-team,case=tagcheck"}

    expected: dict[str, str] = {}  # request id -> workload the ledger must show
    raw = client.chat.completions.with_raw_response.create(
        model="chat", messages=USER_HELLO, extra_headers=tagged
    )
    expected[raw.headers["x-switchyard-request-id"]] = workload

    with client.chat.completions.with_streaming_response.create(
        model="chat", messages=USER_HELLO, stream=True, extra_headers=tagged
    ) as resp:
        list(resp.parse())
        expected[resp.headers["x-switchyard-request-id"]] = workload

    # No header: the route's own workload applies.
    raw = client.chat.completions.with_raw_response.create(model="chat", messages=USER_HELLO)
    expected[raw.headers["x-switchyard-request-id"]] = "support"

    # The ledger writer batches; poll rather than sleep a fixed time.
    deadline = time.monotonic() + 15
    while True:
        records = _export_records(gateway)
        found = {rid: _record_for(records, rid) for rid in expected}
        if all(found.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.25)

    missing = [rid for rid, rec in found.items() if rec is None]
    assert not missing, f"no ledger records for {missing}; export had {len(records)} records"
    for rid, rec in found.items():
        assert rec.get("workload") == expected[rid], f"request {rid}: {rec}"
        if expected[rid] == workload:
            # Tags may be stored as a map or as "k=v" text; either way both must survive.
            dumped = json.dumps(rec)
            assert "sdk-team" in dumped and "tagcheck" in dumped, f"tags lost: {rec}"

    summary = gateway.run_cli("ledger", "summary", "--by", "workload")
    assert summary.returncode == 0, summary.stderr
    assert workload in summary.stdout, summary.stdout
