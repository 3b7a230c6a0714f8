//! The nightly summarisation batch of `switchyard demo`, through the batch API as a client
//! sends it: upload a JSONL file (`POST /v1/files`), create a batch (`POST /v1/batches`) and
//! poll it until it ends. Most lines name `summarize-nightly`, whose first target is OpenAI, so
//! they go through the simulator's Batch API; one in five names `summarize` (Anthropic first),
//! so it goes through the simulator's Message Batches; both at the catalog's batch discount.
//!
//! Must not know how the gateway runs a batch: only its HTTP API.

use crate::demo_traffic::long_text;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use switchyard_providers::HttpClient;

/// How the batch ended.
pub struct Outcome {
    pub id: String,
    pub status: String,
    pub completed: u64,
    pub failed: u64,
}

/// The batch's input file: `lines` summarisation requests.
pub fn input(lines: usize) -> String {
    (0..lines)
        .map(|i| {
            let route = if i % 5 == 4 {
                "summarize"
            } else {
                "summarize-nightly"
            };
            json!({"custom_id": format!("doc-{i}"), "method": "POST", "url": "/v1/chat/completions",
                "body": {"model": route, "max_tokens": 180, "messages": [
                    {"role": "system", "content": "Summarise the document in three bullet points."},
                    {"role": "user", "content": long_text(i * 3, 40 + i % 60)}]}})
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Uploads `jsonl`, runs it as a batch and waits (at most `timeout`) for it to end.
pub async fn run(
    client: &HttpClient,
    base: &str,
    jsonl: String,
    timeout: Duration,
) -> anyhow::Result<Outcome> {
    let file = upload(client, base, jsonl).await?;
    let create = json!({"input_file_id": file["id"], "endpoint": "/v1/chat/completions",
        "completion_window": "24h", "metadata": {"job": "nightly-summaries"}});
    let batch = answer(
        client
            .post_json(&format!("{base}/v1/batches"), &[], create.to_string())
            .await,
    )?;
    let id = batch["id"].as_str().unwrap_or_default().to_string();
    let deadline = Instant::now() + timeout;
    loop {
        let b = answer(client.get(&format!("{base}/v1/batches/{id}")).await)?;
        let status = b["status"].as_str().unwrap_or_default().to_string();
        let ended = ["completed", "failed", "expired", "cancelled"].contains(&status.as_str());
        if ended || Instant::now() > deadline {
            return Ok(Outcome {
                id,
                status,
                completed: b["request_counts"]["completed"].as_u64().unwrap_or(0),
                failed: b["request_counts"]["failed"].as_u64().unwrap_or(0),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `POST /v1/files` as the SDKs send it (multipart, `purpose=batch`).
async fn upload(client: &HttpClient, base: &str, jsonl: String) -> anyhow::Result<Value> {
    const BOUNDARY: &str = "switchyard-demo-boundary";
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"nightly.jsonl\"\r\n\
         Content-Type: application/jsonl\r\n\r\n{jsonl}\r\n--{BOUNDARY}--\r\n"
    );
    let req = http::Request::post(format!("{base}/v1/files"))
        .header(
            http::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Full::new(Bytes::from(body)))?;
    answer(client.fetch(req).await)
}

fn answer(r: Result<switchyard_providers::WholeResponse, String>) -> anyhow::Result<Value> {
    let r = r.map_err(anyhow::Error::msg)?;
    let v: Value = serde_json::from_slice(&r.body)?;
    if !(200..300).contains(&r.status) {
        anyhow::bail!("the batch API answered {}: {v}", r.status);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nightly_file_mixes_openai_and_anthropic_batch_lines_with_unique_ids() {
        let text = input(20);
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect();
        assert_eq!(lines.len(), 20);
        let ids: std::collections::HashSet<&str> = lines
            .iter()
            .filter_map(|l| l["custom_id"].as_str())
            .collect();
        assert_eq!(ids.len(), 20);
        let native = lines
            .iter()
            .filter(|l| l["body"]["model"] == "summarize-nightly")
            .count();
        assert_eq!(native, 16);
    }
}
