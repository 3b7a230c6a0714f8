"""The official anthropic Python SDK against the gateway's Anthropic-compatible API, with
routes whose targets speak OpenAI's, Anthropic's and Gemini's dialects."""

import anthropic
import pytest

ROUTES = pytest.mark.parametrize("route", ["chat", "claude", "gemini"])

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@ROUTES
def test_messages_create(anthropic_client, route):
    raw = anthropic_client.messages.with_raw_response.create(
        model=route, max_tokens=200, system="Be brief.", messages=[{"role": "user", "content": "Say hello"}]
    )
    msg = raw.parse()
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.content[0].type == "text" and msg.content[0].text
    assert msg.stop_reason == "end_turn"
    assert msg.usage.output_tokens > 0
    assert raw.headers["x-switchyard-route"] == route


@ROUTES
def test_messages_stream_helper(anthropic_client, route):
    with anthropic_client.messages.stream(
        model=route, max_tokens=200, messages=[{"role": "user", "content": "Tell me a story"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


@ROUTES
def test_tool_use_and_tool_result(anthropic_client, route):
    first = anthropic_client.messages.create(
        model=route, max_tokens=200, tools=[WEATHER], messages=[{"role": "user", "content": "Weather in Paris?"}]
    )
    assert first.stop_reason == "tool_use"
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.name == "get_weather" and isinstance(call.input.get("city"), str)
    second = anthropic_client.messages.create(
        model=route,
        max_tokens=200,
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18 C"}]},
        ],
    )
    assert second.stop_reason == "end_turn"
    assert second.content[0].type == "text"


@ROUTES
def test_streamed_tool_use_input_reassembles(anthropic_client, route):
    with anthropic_client.messages.stream(
        model=route, max_tokens=200, tools=[WEATHER], messages=[{"role": "user", "content": "Weather in Oslo?"}]
    ) as stream:
        final = stream.get_final_message()
    call = next(b for b in final.content if b.type == "tool_use")
    assert isinstance(call.input.get("city"), str)
    assert final.stop_reason == "tool_use"


def test_errors_raise_the_sdk_exception_classes(anthropic_client):
    with pytest.raises(anthropic.NotFoundError) as err:
        anthropic_client.messages.create(model="no-such-route", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert "claude" in str(err.value)
    with pytest.raises(anthropic.BadRequestError):
        anthropic_client.messages.create(model="chat", max_tokens=10, messages=[])
    with pytest.raises(anthropic.RateLimitError):
        anthropic_client.messages.create(model="ratelimited", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(anthropic.InternalServerError):
        anthropic_client.messages.create(model="broken", max_tokens=10, messages=[{"role": "user", "content": "x"}])
