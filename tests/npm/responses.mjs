// The official `openai` npm package's Responses API (`client.responses`), against a running
// gateway: create, the streaming helper with text and a function call, and a conversation
// continued with `previous_response_id`.
// Usage: GATEWAY_URL=http://127.0.0.1:PORT node responses.mjs ROUTE [ROUTE …]
// Exits non-zero (with the reason) on the first failed expectation.
import assert from "node:assert/strict";
import OpenAI from "openai";

const client = new OpenAI({ baseURL: `${process.env.GATEWAY_URL}/v1`, apiKey: "test", maxRetries: 0 });

const tools = [
  {
    type: "function",
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    strict: false,
  },
];

// The streaming helper's final response carries `output` but not the SDK-computed `output_text`.
const textOf = (r) =>
  r.output
    .filter((i) => i.type === "message")
    .flatMap((i) => i.content)
    .map((p) => p.text ?? "")
    .join("");

for (const route of process.argv.slice(2)) {
  const first = await client.responses.create({ model: route, input: "My name is Ada." });
  assert.equal(first.status, "completed", `${route}: ${first.status}`);
  assert.ok(first.output_text.length > 0, `${route}: no output_text`);
  assert.ok(first.usage.input_tokens > 0, `${route}: no usage`);

  // Text through the streaming helper: deltas add up to the final response's text.
  let streamed = "";
  const textStream = client.responses.stream({ model: route, input: "Tell me a story", previous_response_id: first.id });
  textStream.on("response.output_text.delta", (e) => (streamed += e.delta));
  const text = await textStream.finalResponse();
  assert.ok(streamed.length > 0, `${route}: no text deltas`);
  assert.equal(textOf(text), streamed, `${route}: final text differs from the deltas`);

  // A function call through the streaming helper: argument deltas reassemble into JSON.
  let args = "";
  const toolStream = client.responses.stream({ model: route, input: "Weather in Oslo?", tools, store: false });
  toolStream.on("response.function_call_arguments.delta", (e) => (args += e.delta));
  const called = await toolStream.finalResponse();
  const call = called.output.find((i) => i.type === "function_call");
  assert.ok(call, `${route}: no function call`);
  assert.equal(call.arguments, args, `${route}: arguments differ from the deltas`);
  JSON.parse(call.arguments);

  const fetched = await client.responses.retrieve(text.id);
  assert.equal(fetched.id, text.id, `${route}: retrieve`);
  console.log("ok", route);
}
