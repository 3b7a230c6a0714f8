"""The official openai SDK against routes whose targets speak Anthropic's Messages API and
Gemini's generateContent: the client code is the same; only the route's target differs."""

import json

import pytest

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}


ROUTES = pytest.mark.parametrize("route, provider", [("claude", "claude"), ("gemini", "google")])


@ROUTES
def test_chat_answer_comes_back_in_openai_shape(client, route, provider):
    raw = client.chat.completions.with_raw_response.create(
        model=route,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello"}],
    )
    resp = raw.parse()
    assert resp.choices[0].message.content
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage.prompt_tokens > 0 and resp.usage.completion_tokens > 0
    assert raw.headers["x-switchyard-provider"] == provider
    assert float(raw.headers["x-switchyard-cost-usd"]) > 0


@ROUTES
def test_stream_translates_event_by_event_with_usage(client, route, provider):
    stream = client.chat.completions.create(
        model=route,
        messages=[{"role": "user", "content": "Tell me a story"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert [c for c in chunks if c.choices and c.choices[0].finish_reason] != []


@ROUTES
def test_tool_call_and_tool_result_round_trip(client, route, provider):
    first = client.chat.completions.create(
        model=route,
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER_TOOL],
    )
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)
    second = client.chat.completions.create(
        model=route,
        messages=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 18}'},
        ],
        tools=[WEATHER_TOOL],
    )
    assert second.choices[0].message.content
    assert not second.choices[0].message.tool_calls


@ROUTES
def test_streamed_tool_call_arguments_reassemble(client, route, provider):
    stream = client.chat.completions.create(
        model=route,
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    args, names = {}, {}
    for chunk in stream:
        for tc in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            names.setdefault(tc.index, tc.function.name)
            args[tc.index] = args.get(tc.index, "") + (tc.function.arguments or "")
    assert names[0] == "get_weather"
    assert "city" in json.loads(args[0])


@ROUTES
def test_unsupported_feature_is_a_bad_request(client, route, provider):
    import openai

    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model=route, messages=[{"role": "user", "content": "hi"}], logprobs=True
        )
    assert "logprobs" in str(err.value)


def test_embedding_dimensions_and_default_base64_reach_gemini(client):
    # The SDK asks for base64 by default; Gemini only returns numbers, so the gateway encodes.
    raw = client.embeddings.with_raw_response.create(model="gemini", input=["hello", "world"], dimensions=256)
    assert isinstance(raw.http_response.json()["data"][0]["embedding"], str)
    result = raw.parse()
    assert [len(d.embedding) for d in result.data] == [256, 256]
    assert abs(sum(x * x for x in result.data[0].embedding) - 1.0) < 1e-3


def test_anthropic_thinking_tokens_are_reported_as_reasoning_tokens(client):
    resp = client.chat.completions.create(
        model="claude",
        messages=[{"role": "user", "content": "Think it through: is 91 prime?"}],
        max_tokens=4096,
        extra_body={"thinking": {"type": "enabled", "budget_tokens": 2048}},
    )
    reasoning = resp.usage.completion_tokens_details.reasoning_tokens
    assert 0 < reasoning < resp.usage.completion_tokens


PROMPT = "Every clause of the contract is restated here in full. " * 300  # ~3.3k tokens


def test_context_fit_error_names_prompt_and_max_tokens_for_both_sdks(client, anthropic_client):
    import anthropic
    import openai

    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(
            model="chat", messages=[{"role": "user", "content": PROMPT}], max_tokens=126_000
        )
    assert e.value.code == "context_length_exceeded"
    with pytest.raises(anthropic.BadRequestError) as a:
        anthropic_client.messages.create(
            model="chat", max_tokens=126_000, messages=[{"role": "user", "content": PROMPT}]
        )
    for message in (e.value.body["message"], a.value.body["error"]["message"]):
        assert "max_tokens asks for 126,000 more" in message, message
        assert "over the 128,000-token context window of every target on the route" in message
        assert "Lower max_tokens to at most" in message
