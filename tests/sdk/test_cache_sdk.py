"""The exact response cache through the official SDKs: an answer stored from a whole
response is replayed as a proper stream the openai SDK reads like a live one (role,
content, finish, usage), and an Anthropic client asking the same thing gets the same answer."""

from __future__ import annotations

import time

import anthropic

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "What does a cache do? (sdk cache test)"},
]


def _until_hit(client, **kwargs):
    for _ in range(100):
        raw = client.chat.completions.with_raw_response.create(**kwargs)
        if raw.headers.get("x-switchyard-cache") == "hit":
            return raw
        time.sleep(0.02)
    raise AssertionError("the answer never became a cache hit")


def test_cache_openai_sdk_streams_a_cached_answer(client, gateway):
    args = dict(model="cached", messages=MESSAGES, temperature=0, max_tokens=60)
    first = client.chat.completions.with_raw_response.create(**args)
    assert first.headers.get("x-switchyard-cache") == "miss"
    live = first.parse()
    _until_hit(client, **args)

    raw = client.chat.completions.with_raw_response.create(
        **args, stream=True, stream_options={"include_usage": True}
    )
    assert raw.headers.get("x-switchyard-cache") == "hit"
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == live.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    usage = [c.usage for c in chunks if c.usage is not None]
    assert usage and usage[-1].total_tokens == live.usage.total_tokens

    claude = anthropic.Anthropic(base_url=gateway.url, api_key="test", max_retries=0)
    msg = claude.messages.with_raw_response.create(
        model="cached", system="Be brief.", max_tokens=60, extra_body={"temperature": 0},
        messages=[{"role": "user", "content": MESSAGES[1]["content"]}],
    )
    assert msg.headers.get("x-switchyard-cache") == "hit"
    assert msg.parse().content[0].text == live.choices[0].message.content
