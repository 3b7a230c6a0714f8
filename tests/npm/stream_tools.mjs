// The official `openai` npm package's streaming helper with tools, against a running gateway.
// Usage: GATEWAY_URL=http://127.0.0.1:PORT node stream_tools.mjs ROUTE [ROUTE …]
// Exits non-zero (with the reason) on the first failed expectation.
import assert from "node:assert/strict";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: `${process.env.GATEWAY_URL}/v1`, apiKey: "test", maxRetries: 0 });

const tools = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Current weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  },
];

for (const route of process.argv.slice(2)) {
  // Text through the streaming helper: deltas arrive and add up to the final message.
  let streamed = "";
  const textStream = client.chat.completions.stream({
    model: route,
    messages: [{ role: "user", content: "Tell me a story" }],
    stream_options: { include_usage: true },
  });
  textStream.on("content", (delta) => (streamed += delta));
  const text = await textStream.finalChatCompletion();
  assert.ok(streamed.length > 0, `${route}: no content deltas`);
  assert.equal(text.choices[0].message.content, streamed, `${route}: final message differs from the deltas`);
  assert.ok(text.usage && text.usage.completion_tokens > 0, `${route}: no usage`);

  // Tools through the streaming helper: argument deltas reassemble into valid JSON.
  const toolStream = client.chat.completions.stream({
    model: route,
    messages: [{ role: "user", content: "What is the weather in Oslo?" }],
    tools,
  });
  const done = [];
  toolStream.on("tool_calls.function.arguments.done", (ev) => done.push(ev));
  const final = await toolStream.finalChatCompletion();
  const call = final.choices[0].message.tool_calls?.[0];
  assert.ok(call, `${route}: no tool call`);
  assert.equal(call.function.name, "get_weather");
  assert.equal(typeof JSON.parse(call.function.arguments).city, "string", `${route}: arguments are not the schema's JSON`);
  assert.equal(final.choices[0].finish_reason, "tool_calls");
  assert.ok(done.length >= 1, `${route}: the helper saw no completed arguments`);
  console.log(`ok ${route}`);
}
