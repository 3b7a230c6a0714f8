//! The Gemini generateContent simulator, driven through the router in-process.

mod support;

use axum::Router;
use serde_json::{Value, json};
use std::time::Duration;
use support::{Reply, config_with, post, send};
use switchyard_sim::{SimConfig, router};

async fn generate(app: &Router, model: &str, body: Value) -> Reply {
    let uri = format!("/v1beta/models/{model}:generateContent");
    send(app, post(&uri, &[], &body)).await
}

fn hello() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "Say hello to the team."}]}],
        "generationConfig": {"maxOutputTokens": 64}})
}

fn tools() -> Value {
    json!([{"functionDeclarations": [
        {"name": "get_weather", "description": "Weather for a city",
         "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"},
            "days": {"type": "INTEGER"}}, "required": ["city"]}},
        {"name": "get_time", "parameters": {"type": "OBJECT", "properties": {"zone": {"type": "STRING"}}}}
    ]}])
}

fn text_of(response: &Value) -> String {
    response["candidates"][0]["content"]["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["thought"] != true)
        .filter_map(|p| p["text"].as_str())
        .collect()
}

#[tokio::test]
async fn text_answer_has_the_response_shape() {
    let app = router(SimConfig::instant());
    let r = generate(&app, "gemini-2.5-flash", hello()).await;
    assert_eq!(r.status, 200);
    let g = r.json();
    let c = &g["candidates"][0];
    assert_eq!(c["content"]["role"], "model");
    assert!(!text_of(&g).is_empty());
    assert!(["STOP", "MAX_TOKENS"].contains(&c["finishReason"].as_str().unwrap()));
    let u = &g["usageMetadata"];
    let (p, o) = (
        u["promptTokenCount"].as_u64().unwrap(),
        u["candidatesTokenCount"].as_u64().unwrap(),
    );
    assert_eq!(u["totalTokenCount"].as_u64().unwrap(), p + o);
    assert!(u.get("cachedContentTokenCount").is_none() && u.get("thoughtsTokenCount").is_none());
    assert_eq!(g["modelVersion"], "gemini-2.5-flash");
    assert!(g["responseId"].is_string());
}

#[tokio::test]
async fn keys_and_requests_are_checked() {
    let app = router(SimConfig {
        api_key: Some("k".into()),
        ..SimConfig::instant()
    });
    let uri = "/v1beta/models/gemini-2.5-flash:generateContent";
    let r = send(&app, post(uri, &[("x-goog-api-key", "k")], &hello())).await;
    assert_eq!(r.status, 200);
    let r = send(&app, post(&format!("{uri}?key=k"), &[], &hello())).await;
    assert_eq!(r.status, 200);
    let r = send(&app, post(&format!("{uri}?key=bad"), &[], &hello())).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    let r = send(&app, post(uri, &[], &hello())).await;
    assert_eq!(r.status, 403);
    let r = send(&app, post(uri, &[("x-goog-api-key", "k")], &json!({}))).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["code"].as_u64()),
        (400, Some(400))
    );
    let r = send(
        &app,
        post(
            "/v1beta/models/gemini-2.5-flash:embed",
            &[("x-goog-api-key", "k")],
            &hello(),
        ),
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn function_calls_follow_the_declarations() {
    let app = router(SimConfig::instant());
    let mut req = hello();
    req["tools"] = tools();
    let g = generate(&app, "gemini-2.5-flash", req.clone()).await.json();
    let parts = g["candidates"][0]["content"]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    let call = &parts[0]["functionCall"];
    assert_eq!(call["name"], "get_weather");
    assert!(call["args"]["city"].is_string() && call["args"]["days"].is_i64());
    assert_eq!(g["candidates"][0]["finishReason"], "STOP");
    // In parallel when asked to, and never with mode NONE.
    req["contents"][0]["parts"][0]["text"] = json!("Weather and time in parallel, please.");
    let g = generate(&app, "gemini-2.5-flash", req.clone()).await.json();
    assert_eq!(
        g["candidates"][0]["content"]["parts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    req["toolConfig"] = json!({"functionCallingConfig": {"mode": "NONE"}});
    let g = generate(&app, "gemini-2.5-flash", req.clone()).await.json();
    assert!(g["candidates"][0]["content"]["parts"][0]["text"].is_string());
    // A function response from the user is answered in text.
    req["toolConfig"] = json!({"functionCallingConfig": {"mode": "AUTO"}});
    req["contents"].as_array_mut().unwrap().extend([
        json!({"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]}),
        json!({"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"sky": "clear"}}}]}),
    ]);
    let g = generate(&app, "gemini-2.5-flash", req).await.json();
    assert!(!text_of(&g).is_empty());
}

#[tokio::test]
async fn json_output_follows_the_response_schema() {
    let app = router(SimConfig::instant());
    let mut req = hello();
    req["generationConfig"]["responseMimeType"] = json!("application/json");
    req["generationConfig"]["responseSchema"] = json!({"type": "OBJECT",
        "properties": {"name": {"type": "STRING"}, "age": {"type": "INTEGER"}}});
    let g = generate(&app, "gemini-2.5-flash", req).await.json();
    let v: Value = serde_json::from_str(&text_of(&g)).unwrap();
    assert!(v["name"].is_string() && v["age"].is_i64());
}

#[tokio::test]
async fn streams_as_sse_or_a_json_array() {
    let app = router(SimConfig::instant());
    let whole = generate(&app, "gemini-2.5-flash", hello()).await.json();
    let uri = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
    let r = send(&app, post(&format!("{uri}?alt=sse"), &[], &hello())).await;
    assert_eq!(r.headers["content-type"], "text/event-stream");
    let chunks: Vec<Value> = r
        .text()
        .split("\r\n\r\n")
        .filter(|f| !f.is_empty())
        .map(|f| serde_json::from_str(f.strip_prefix("data: ").unwrap()).unwrap())
        .collect();
    assert!(chunks.len() > 1);
    let text: String = chunks.iter().map(text_of).collect();
    assert_eq!(text, text_of(&whole));
    let last = chunks.last().unwrap();
    assert_eq!(
        last["candidates"][0]["finishReason"],
        whole["candidates"][0]["finishReason"]
    );
    assert_eq!(last["usageMetadata"], whole["usageMetadata"]);
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["candidates"][0].get("finishReason").is_none())
    );
    let r = send(&app, post(uri, &[], &hello())).await;
    let array = r.json();
    let text: String = array.as_array().unwrap().iter().map(text_of).collect();
    assert_eq!(text, text_of(&whole));
}

#[tokio::test]
async fn a_repeated_long_prompt_is_reported_as_implicitly_cached() {
    let app = router(SimConfig::instant());
    let mut req = hello();
    req["systemInstruction"] =
        json!({"parts": [{"text": "Policy: cite the ledger. ".repeat(400)}]});
    let first =
        generate(&app, "gemini-2.5-flash", req.clone()).await.json()["usageMetadata"].clone();
    assert!(first["promptTokenCount"].as_u64().unwrap() >= 2048);
    assert!(first.get("cachedContentTokenCount").is_none(), "{first}");
    let u = generate(&app, "gemini-2.5-flash", req).await.json()["usageMetadata"].clone();
    let cached = u["cachedContentTokenCount"].as_u64().unwrap();
    assert!(
        cached >= 2048 && cached <= u["promptTokenCount"].as_u64().unwrap(),
        "{u}"
    );
    assert_eq!(u["cacheTokensDetails"][0]["tokenCount"], cached);
}

#[tokio::test]
async fn thinking_models_report_thoughts() {
    let app = router(SimConfig::instant());
    let mut req = hello();
    req["generationConfig"]["maxOutputTokens"] = json!(2048);
    let g = generate(&app, "gemini-2.5-pro", req.clone()).await.json();
    let u = &g["usageMetadata"];
    let t = u["thoughtsTokenCount"].as_u64().unwrap();
    assert!(t > 0);
    let sum =
        u["promptTokenCount"].as_u64().unwrap() + u["candidatesTokenCount"].as_u64().unwrap() + t;
    assert_eq!(u["totalTokenCount"].as_u64().unwrap(), sum);
    assert!(
        g["candidates"][0]["content"]["parts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p.get("thought").is_none())
    );
    req["generationConfig"]["thinkingConfig"] = json!({"includeThoughts": true});
    let g = generate(&app, "gemini-2.5-pro", req.clone()).await.json();
    assert_eq!(g["candidates"][0]["content"]["parts"][0]["thought"], true);
    req["generationConfig"]["thinkingConfig"] = json!({"thinkingBudget": 0});
    let g = generate(&app, "gemini-2.0-flash-thinking", req)
        .await
        .json();
    assert!(g["usageMetadata"].get("thoughtsTokenCount").is_none());
}

async fn fault(model: &str, tweak: impl FnOnce(&mut switchyard_sim::Behaviour)) -> Reply {
    let app = router(config_with(model, tweak));
    generate(&app, model, hello()).await
}

#[tokio::test]
async fn faults_use_google_errors() {
    let r = fault("m", |b| {
        b.rate_429 = 1.0;
        b.retry_after_s = 3;
    })
    .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "3");
    let e = &r.json()["error"];
    assert_eq!(
        (e["code"].as_u64(), e["status"].as_str()),
        (Some(429), Some("RESOURCE_EXHAUSTED"))
    );
    let r = fault("m", |b| b.error_rate = 1.0).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["status"].as_str()),
        (500, Some("INTERNAL"))
    );
    let r = fault("gemini-overloaded", |b| b.error_rate = 1.0).await;
    assert_eq!(
        (r.status.as_u16(), r.json()["error"]["status"].as_str()),
        (503, Some("UNAVAILABLE"))
    );
    let app = router(config_with("m", |b| b.timeout_rate = 1.0));
    let held = tokio::time::timeout(Duration::from_millis(200), generate(&app, "m", hello())).await;
    assert!(held.is_err());
}

#[tokio::test]
async fn disconnects_cut_the_stream() {
    let app = router(config_with("m", |b| b.disconnect_rate = 1.0));
    let r = send(
        &app,
        post(
            "/v1beta/models/m:streamGenerateContent?alt=sse",
            &[],
            &hello(),
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_err());
}

#[tokio::test]
async fn gemini_3_signs_its_calls_and_refuses_a_replayed_call_without_its_signature() {
    let app = router(SimConfig::instant());
    let mut ask = json!({"contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}],
        "tools": tools(), "toolConfig": {"functionCallingConfig": {"mode": "ANY"}}});
    let r = generate(&app, "gemini-3.5-flash", ask.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let parts = r.json()["candidates"][0]["content"]["parts"].clone();
    let call = parts
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p.get("functionCall").is_some())
        .unwrap()
        .clone();
    assert!(
        call["thoughtSignature"]
            .as_str()
            .is_some_and(|s| s.len() > 40),
        "{parts}"
    );
    let name = call["functionCall"]["name"].as_str().unwrap().to_string();
    let reply = json!({"role": "user", "parts": [{"functionResponse": {"name": name, "response": {"ok": true}}}]});
    ask["toolConfig"] = json!({"functionCallingConfig": {"mode": "AUTO"}});

    let mut signed = ask.clone();
    let contents = signed["contents"].as_array_mut().unwrap();
    contents.push(json!({"role": "model", "parts": [call.clone()]}));
    contents.push(reply.clone());
    let r = generate(&app, "gemini-3.5-flash", signed).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let mut unsigned_call = call;
    unsigned_call
        .as_object_mut()
        .unwrap()
        .remove("thoughtSignature");
    let contents = ask["contents"].as_array_mut().unwrap();
    contents.push(json!({"role": "model", "parts": [unsigned_call]}));
    contents.push(reply);
    let r = generate(&app, "gemini-3.5-flash", ask.clone()).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let e = &r.json()["error"];
    assert_eq!(
        (e["code"].as_u64(), e["status"].as_str()),
        (Some(400), Some("INVALID_ARGUMENT"))
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("missing a thought_signature"),
        "{e}"
    );
    // Older models neither sign nor check.
    let r = generate(&app, "gemini-2.5-flash", ask).await;
    assert_eq!(r.status, 200, "{}", r.text());
}
