#!/usr/bin/env python3
"""Request bodies for the gateway benchmarks (bench/overhead.sh, bench/instructions.sh).

Usage: bench/bodies.py OUTDIR MODEL
Writes OUTDIR/{tiny,chat500,rag8k,tools5,stream200,responses500,responses500s}.json for model MODEL. The text is
deterministic (fixed seed), so every run and the regression guard send the same bytes.

- tiny:      the historical two-word prompt ("Say hello").
- chat500:   a system prompt and a user message, about 500 tokens (2.5 KB); the answer is
             limited to 230 tokens (the simulator answers 1.2 KB of text).
- rag8k:     a RAG-style prompt: instructions, eight retrieved passages, a question; about
             8,000 tokens (32 KB).
- tools5:    chat500's conversation plus five function tools; the simulator answers with a
             tool call built from the tool's JSON schema.
- stream200: chat500 streamed (`stream_options.include_usage`), about 200 answer chunks (max_tokens picked so the simulator sends 207 SSE events).
- responses500, responses500s: chat500 as a Responses API request (`instructions` and input
  items, `max_output_tokens` 230) for POST /v1/responses, without and with `store`.
"""

import json
import random
import sys

WORDS = (
    "the of and to in is that for on with as it by this are be from or at an was which "
    "order invoice refund customer account shipping delivery warranty policy support team "
    "product service request return payment card billing address email update status "
    "within days business contact details information please thank you issue problem "
    "damaged replacement option available store online bookshop cover edition author "
    "chapter page reader review rating price discount subscription plan monthly annual"
).split()


def prose(rng, n_words):
    out, sentence = [], 0
    for _ in range(n_words):
        w = rng.choice(WORDS)
        out.append(w.capitalize() if sentence == 0 else w)
        sentence += 1
        if sentence > 6 and rng.random() < 0.12:
            out[-1] += "."
            sentence = 0
    return " ".join(out) + "."


def chat500(rng):
    system = (
        "You are a careful, friendly support assistant for an online bookshop. Answer in "
        "plain English, cite the policy section you rely on, never invent order numbers, and "
        "ask one clarifying question when the request is ambiguous. " + prose(rng, 60)
    )
    user = prose(rng, 270) + " What are my options?"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def rag8k(rng):
    passages = "\n\n".join(
        f"[{i + 1}] Source: kb/article-{100 + i}.md\n{prose(rng, 610)}" for i in range(8)
    )
    return [
        {
            "role": "system",
            "content": "Answer only from the passages below and cite them as [n]. If they do "
            "not contain the answer, say so.\n\n" + passages,
        },
        {"role": "user", "content": "Which passages describe the refund policy for damaged covers?"},
    ]


def tools(rng):
    def tool(name, desc, props, required):
        return {
            "type": "function",
            "function": {
                "name": name,
                "description": desc,
                "parameters": {"type": "object", "properties": props, "required": required},
            },
        }

    s = {"type": "string"}
    return [
        tool("lookup_order", "Find an order by its number.", {"order_id": s}, ["order_id"]),
        tool("refund_order", "Refund an order, fully or in part.",
             {"order_id": s, "amount_usd": {"type": "number"}, "reason": s}, ["order_id", "reason"]),
        tool("ship_replacement", "Ship a replacement copy.",
             {"order_id": s, "express": {"type": "boolean"}}, ["order_id"]),
        tool("search_catalog", "Search the catalog by title or author.",
             {"query": s, "limit": {"type": "integer"}}, ["query"]),
        tool("open_ticket", "Open a support ticket for a human agent.",
             {"summary": s, "priority": {"type": "string", "enum": ["low", "normal", "high"]}},
             ["summary"]),
    ]


def responses(model, chat, store):
    system = [m["content"] for m in chat if m["role"] == "system"]
    items = [{"role": m["role"], "content": m["content"]} for m in chat if m["role"] != "system"]
    return {"model": model, "max_output_tokens": 230, "instructions": "\n".join(system),
            "input": items, "store": store}


def main():
    out, model = sys.argv[1], sys.argv[2]
    rng = random.Random(42)
    chat = chat500(rng)
    bodies = {
        "tiny": {"model": model, "messages": [{"role": "user", "content": "Say hello"}]},
        "chat500": {"model": model, "max_tokens": 230, "messages": chat},
        "rag8k": {"model": model, "max_tokens": 300, "messages": rag8k(rng)},
        "tools5": {"model": model, "max_tokens": 300, "messages": chat, "tools": tools(rng)},
        "stream200": {"model": model, "max_tokens": 250, "messages": chat, "stream": True,
                      "stream_options": {"include_usage": True}},
        # chat500 through the Responses API (POST /v1/responses), to compare the two ingresses:
        # the same conversation as `instructions` and input items; `store: false` so the
        # figure is the ingress alone (responses500s keeps it, as clients do by default).
        "responses500": responses(model, chat, store=False),
        "responses500s": responses(model, chat, store=True),
    }
    for name, body in bodies.items():
        with open(f"{out}/{name}.json", "w") as f:
            json.dump(body, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
