//! Responses API conversation state kept by the gateway: `previous_response_id` on targets with
//! and without server-side state, the stored-response endpoints, key scoping (another key's id
//! is a 404 that does not tell it exists), `store: false`, cancel and input token counts.

mod common;

use common::{Harness, MASTER, start_with};
use serde_json::{Value, json};

const SIM: &str = "seed = 9\napi_key = \"sk-test-secret-0123456789\"\n[defaults]\nttft_ms = 0\ntokens_per_second = 0\n";

const GATEWAY: &str = r#"
[ledger]
flush_interval_ms = 10000
[providers.openai]
kind = "openai"
base_url = "SIM_URL/v1"
api_key_env = "SIM_KEY"
[providers.claude]
kind = "anthropic"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[providers.google]
kind = "gemini"
base_url = "SIM_URL"
api_key_env = "SIM_KEY"
[[routes]]
name = "native"
targets = [{ provider = "openai", model = "gpt-4o-mini" }]
[[routes]]
name = "via-anthropic"
targets = [{ provider = "claude", model = "claude-sonnet-4-5" }]
[[routes]]
name = "via-gemini"
targets = [{ provider = "google", model = "gemini-2.5-flash" }]
"#;

const ENV: &[(&str, &str)] = &[("SWITCHYARD_MASTER_KEY", MASTER)];

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

async fn create(h: &Harness, key: &str, body: &Value) -> common::Answer {
    h.post_with(
        "/v1/responses",
        body.to_string().into_bytes(),
        &[("authorization", &bearer(key))],
    )
    .await
}

async fn call(h: &Harness, method: &str, path: &str, key: &str) -> common::Answer {
    h.call(method, path, &[("authorization", &bearer(key))], None)
        .await
}

async fn key(h: &Harness, name: &str) -> String {
    h.create_key(&json!({"name": name})).await
}

#[tokio::test]
async fn previous_response_id_carries_the_conversation_to_every_target() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let k = key(&h, "app").await;
    for route in ["native", "via-anthropic", "via-gemini"] {
        let first = create(
            &h,
            &k,
            &json!({"model": route, "input": "My name is Ada.", "instructions": "Be brief."}),
        )
        .await;
        assert_eq!(first.status, 200, "{route}: {}", first.text());
        let id = first.json()["id"].as_str().unwrap().to_string();
        let second = create(
            &h,
            &k,
            &json!({"model": route, "input": "What is my name?", "previous_response_id": id}),
        )
        .await;
        assert_eq!(second.status, 200, "{route}: {}", second.text());
        // The upstream saw the whole conversation, and no id of the gateway's.
        let last: Value = h.get(&format!("{}/sim/last", h.sim)).await.json();
        let seen = last.to_string();
        assert!(seen.contains("My name is Ada."), "{route}: {seen}");
        assert!(seen.contains("What is my name?"), "{route}");
        assert!(!seen.contains("previous_response_id"), "{route}");
    }
    h.finish().await;
}

#[tokio::test]
async fn stored_responses_are_read_listed_and_deleted_by_their_own_key_only() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let (mine, theirs) = (key(&h, "mine").await, key(&h, "theirs").await);
    let body = json!({"model": "via-anthropic", "input": [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]});
    let made = create(&h, &mine, &body).await.json();
    let id = made["id"].as_str().unwrap();
    let got = call(&h, "GET", &format!("/v1/responses/{id}"), &mine).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json()["id"], id);
    assert_eq!(got.json()["output"], made["output"]);
    let items = call(
        &h,
        "GET",
        &format!("/v1/responses/{id}/input_items?order=asc&limit=1"),
        &mine,
    )
    .await
    .json();
    assert_eq!(items["object"], "list");
    assert_eq!(items["data"][0]["content"], "one");
    assert_eq!(items["has_more"], true);
    // Another key: the same 404 as an id that never existed, for every endpoint.
    let never = call(&h, "GET", "/v1/responses/resp_never", &theirs).await;
    for (method, path) in [
        ("GET", format!("/v1/responses/{id}")),
        ("GET", format!("/v1/responses/{id}/input_items")),
        ("DELETE", format!("/v1/responses/{id}")),
    ] {
        let a = call(&h, method, &path, &theirs).await;
        assert_eq!(a.status, 404, "{method} {path}: {}", a.text());
        assert_eq!(a.json()["error"]["code"], never.json()["error"]["code"]);
        assert!(!a.text().contains("another key"), "{}", a.text());
    }
    let prev = create(
        &h,
        &theirs,
        &json!({"model": "native", "input": "x", "previous_response_id": id}),
    )
    .await;
    assert_eq!(prev.status, 404, "{}", prev.text());
    assert_eq!(prev.json()["error"]["param"], "previous_response_id");
    assert_eq!(prev.json()["error"]["code"], "previous_response_not_found");
    // Cancel: a completed response is not a background one.
    assert_eq!(
        call(&h, "POST", &format!("/v1/responses/{id}/cancel"), &mine)
            .await
            .status,
        400
    );
    assert_eq!(
        call(&h, "POST", "/v1/responses/resp_never/cancel", &mine)
            .await
            .status,
        404
    );
    let del = call(&h, "DELETE", &format!("/v1/responses/{id}"), &mine).await;
    assert_eq!(
        del.json(),
        json!({"id": id, "object": "response", "deleted": true})
    );
    assert_eq!(
        call(&h, "GET", &format!("/v1/responses/{id}"), &mine)
            .await
            .status,
        404
    );
    h.finish().await;
}

#[tokio::test]
async fn store_false_keeps_nothing_and_streams_are_stored_from_their_final_event() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let k = key(&h, "app").await;
    let a = create(
        &h,
        &k,
        &json!({"model": "via-gemini", "input": "hi", "store": false}),
    )
    .await
    .json();
    let id = a["id"].as_str().unwrap();
    assert_eq!(
        call(&h, "GET", &format!("/v1/responses/{id}"), &k)
            .await
            .status,
        404
    );
    let s = create(
        &h,
        &k,
        &json!({"model": "via-anthropic", "input": "hi", "stream": true}),
    )
    .await;
    let done = s
        .text()
        .split("\n\n")
        .filter_map(|f| f.strip_prefix("event: response.completed\ndata: "))
        .next()
        .map(|d| serde_json::from_str::<Value>(d).unwrap())
        .unwrap();
    let sid = done["response"]["id"].as_str().unwrap();
    let got = call(&h, "GET", &format!("/v1/responses/{sid}"), &k).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.json()["output"], done["response"]["output"]);
    h.finish().await;
}

#[tokio::test]
async fn input_tokens_counts_the_prompt_with_the_stored_conversation() {
    let h = start_with(SIM, GATEWAY, ENV).await;
    let k = key(&h, "app").await;
    let count = |body: Value| {
        let h = &h;
        let k = k.clone();
        async move {
            let a = h
                .post_with(
                    "/v1/responses/input_tokens",
                    body.to_string().into_bytes(),
                    &[("authorization", &bearer(&k))],
                )
                .await;
            assert_eq!(a.status, 200, "{}", a.text());
            assert_eq!(a.json()["object"], "response.input_tokens");
            a.json()["input_tokens"].as_u64().unwrap()
        }
    };
    let short = count(json!({"model": "native", "input": "hello"})).await;
    let id = create(
        &h,
        &k,
        &json!({"model": "native", "input": "a much longer first turn of the conversation"}),
    )
    .await
    .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let chained =
        count(json!({"model": "native", "input": "hello", "previous_response_id": id})).await;
    assert!(short > 0 && chained > short, "{short} {chained}");
    h.finish().await;
}
