#!/usr/bin/env python3
"""Probe a running serve-smollm2.sh server: latency, streaming, usage, model field, tools.

Usage: probe-smollm2.py http://127.0.0.1:PORT
Stdlib only. Prints a short human-readable report; exit 0 if the basic checks pass.
"""
import json
import sys
import time
import urllib.request

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8080"
MODEL = "SmolLM2-135M-Instruct"


def post(path, body, stream=False):
    req = urllib.request.Request(
        BASE + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    resp = urllib.request.urlopen(req, timeout=120)
    if not stream:
        return json.loads(resp.read())
    events = []
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            events.append("[DONE]")
            break
        events.append(json.loads(data))
    return events


ok = True
msgs = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]

# 1. non-stream
t = time.time()
r = post("/v1/chat/completions", {"model": MODEL, "messages": msgs, "max_tokens": 32, "temperature": 0})
dt = time.time() - t
print(f"[non-stream] {dt:.2f}s model={r.get('model')!r} finish={r['choices'][0].get('finish_reason')}")
print(f"  answer: {r['choices'][0]['message'].get('content')!r}")
print(f"  usage: {r.get('usage')}")
ok &= bool(r["choices"][0]["message"].get("content")) and bool(r.get("usage"))

# 2. second call (warm)
t = time.time()
r = post("/v1/chat/completions", {"model": MODEL, "messages": msgs, "max_tokens": 32, "temperature": 0})
print(f"[non-stream warm] {time.time() - t:.2f}s")

# 3. stream with include_usage
t = time.time()
ev = post(
    "/v1/chat/completions",
    {"model": MODEL, "messages": msgs, "max_tokens": 32, "temperature": 0, "stream": True,
     "stream_options": {"include_usage": True}},
    stream=True,
)
dt = time.time() - t
chunks = [e for e in ev if isinstance(e, dict)]
text = "".join((c["choices"][0].get("delta") or {}).get("content") or "" for c in chunks if c.get("choices"))
usage_chunks = [c.get("usage") for c in chunks if c.get("usage")]
print(f"[stream+include_usage] {dt:.2f}s chunks={len(chunks)} done={'[DONE]' in ev} "
      f"model={chunks[0].get('model') if chunks else None!r}")
print(f"  text: {text!r}")
print(f"  usage chunks: {usage_chunks}")
print(f"  last chunk: {json.dumps(chunks[-1]) if chunks else None}")
ok &= bool(text) and "[DONE]" in ev

# 4. stream without stream_options
ev = post("/v1/chat/completions",
          {"model": MODEL, "messages": msgs, "max_tokens": 16, "temperature": 0, "stream": True}, stream=True)
chunks = [e for e in ev if isinstance(e, dict)]
print(f"[stream plain] chunks={len(chunks)} any usage={any(c.get('usage') for c in chunks)}")

# 5. model field when a different model name is requested
r = post("/v1/chat/completions", {"model": "some-other-name", "messages": msgs, "max_tokens": 8})
print(f"[model field, requested 'some-other-name'] -> {r.get('model')!r}")

# 6. tools
tools = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
tmsgs = [{"role": "user", "content": "What's the weather in Paris?"}]
for choice in ("auto", {"type": "function", "function": {"name": "get_weather"}}):
    t = time.time()
    try:
        r = post("/v1/chat/completions", {"model": MODEL, "messages": tmsgs, "max_tokens": 64,
                                          "temperature": 0, "tools": tools, "tool_choice": choice})
        m = r["choices"][0]["message"]
        print(f"[tools tool_choice={json.dumps(choice)}] {time.time() - t:.2f}s "
              f"finish={r['choices'][0].get('finish_reason')} tool_calls={json.dumps(m.get('tool_calls'))} "
              f"content={m.get('content')!r}")
    except urllib.error.HTTPError as e:
        print(f"[tools tool_choice={json.dumps(choice)}] HTTP {e.code}: {e.read()[:300]!r}")

# 7. legacy completions + models
r = json.loads(urllib.request.urlopen(BASE + "/v1/models", timeout=10).read())
print(f"[/v1/models] {[m.get('id') for m in r.get('data', [])]}")

print("PROBE", "OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
