"""The official openai and anthropic SDKs doing a full tool loop against a Gemini 3 target.

Gemini 3 signs its function calls and refuses (400) a follow-up turn that replays a call
without its thought signature. The SDKs have no field for it; the gateway carries it in the
tool-call id, which every SDK sends back unchanged, and restores it for Gemini. The client
code below is what a user writes for any model: append the assistant message as the SDK
returned it, then the tool result, and ask again until the model answers in text.
"""

import json
import re

import pytest

ROUTE = "gemini3"
QUESTION = "What is the weather in Paris?"
ID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")  # Anthropic's tool_use id pattern

OPENAI_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}

ANTHROPIC_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": OPENAI_TOOL["function"]["parameters"],
}


def weather(args: dict) -> str:
    return json.dumps({"city": args.get("city"), "temp": 18, "sky": "cloudy"})


def _openai_streamed(client, messages, first):
    """One streamed turn, reassembled into an assistant message dict."""
    stream = client.chat.completions.create(
        model=ROUTE,
        messages=messages,
        tools=[OPENAI_TOOL],
        tool_choice="required" if first else "auto",
        stream=True,
    )
    text, calls = "", {}
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text += delta.content or ""
        for tc in delta.tool_calls or []:
            c = calls.setdefault(tc.index, {"id": "", "type": "function",
                                            "function": {"name": "", "arguments": ""}})
            c["id"] += tc.id or ""
            c["function"]["name"] += (tc.function.name or "") if tc.function else ""
            c["function"]["arguments"] += (tc.function.arguments or "") if tc.function else ""
    message = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_openai_sdk_completes_a_gemini_3_tool_loop(client, stream):
    messages = [{"role": "user", "content": QUESTION}]
    calls_made = 0
    for turn in range(4):
        if stream:
            message = _openai_streamed(client, messages, turn == 0)
            tool_calls = message.get("tool_calls") or []
            ids_and_args = [(c["id"], c["function"]["arguments"]) for c in tool_calls]
            messages.append(message)
            answer = message["content"]
        else:
            resp = client.chat.completions.create(
                model=ROUTE,
                messages=messages,
                tools=[OPENAI_TOOL],
                tool_choice="required" if turn == 0 else "auto",
            )
            message = resp.choices[0].message
            tool_calls = message.tool_calls or []
            ids_and_args = [(c.id, c.function.arguments) for c in tool_calls]
            messages.append(message)  # the SDK's own object, as users do
            answer = message.content
        if not tool_calls:
            assert answer, "the loop ends with a text answer"
            break
        for call_id, args in ids_and_args:
            assert ID_PATTERN.match(call_id), call_id
            calls_made += 1
            messages.append({"role": "tool", "tool_call_id": call_id,
                             "content": weather(json.loads(args))})
    else:
        pytest.fail("the model never answered in text")
    assert calls_made >= 1, "the loop went through at least one tool call"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_anthropic_sdk_completes_a_gemini_3_tool_loop(anthropic_client, stream):
    messages = [{"role": "user", "content": QUESTION}]
    calls_made = 0
    for turn in range(4):
        kwargs = dict(
            model=ROUTE,
            max_tokens=1024,
            messages=messages,
            tools=[ANTHROPIC_TOOL],
            tool_choice={"type": "any"} if turn == 0 else {"type": "auto"},
        )
        if stream:
            with anthropic_client.messages.stream(**kwargs) as s:
                resp = s.get_final_message()
        else:
            resp = anthropic_client.messages.create(**kwargs)
        messages.append({"role": "assistant", "content": resp.content})
        uses = [b for b in resp.content if b.type == "tool_use"]
        if not uses:
            assert resp.stop_reason == "end_turn"
            assert any(b.type == "text" and b.text for b in resp.content)
            break
        assert resp.stop_reason == "tool_use"
        results = []
        for use in uses:
            assert ID_PATTERN.match(use.id), use.id
            calls_made += 1
            results.append({"type": "tool_result", "tool_use_id": use.id,
                            "content": weather(use.input)})
        messages.append({"role": "user", "content": results})
    else:
        pytest.fail("the model never answered in text")
    assert calls_made >= 1
