//! The batch API's client side for tests: one chat line, `POST /v1/files` as the SDKs send
//! it, create, poll until a status, read a file's lines.

use super::{Answer, Harness};
use serde_json::{Value, json};
use std::time::Duration;

pub fn line(id: &str, route: &str, text: &str) -> String {
    json!({"custom_id": id, "method": "POST", "url": "/v1/chat/completions",
           "body": {"model": route, "messages": [{"role": "user", "content": text}]}})
    .to_string()
}

pub fn auth(key: &str) -> String {
    format!("Bearer {key}")
}

/// `POST /v1/files` as the SDKs send it; returns the answer.
pub async fn upload(h: &Harness, key: Option<&str>, content: &[u8]) -> Answer {
    let mut body = b"--sybound\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--sybound\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n--sybound--\r\n");
    let mut req = http::Request::post(format!("{}/v1/files", h.base))
        .header("content-type", "multipart/form-data; boundary=sybound");
    if let Some(k) = key {
        req = req.header("authorization", auth(k));
    }
    let r = h
        .client
        .fetch(
            req.body(http_body_util::Full::new(bytes::Bytes::from(body)))
                .unwrap(),
        )
        .await
        .unwrap();
    Answer {
        status: r.status,
        headers: r.headers,
        body: r.body.to_vec(),
    }
}

pub fn headers(key: Option<&str>) -> Vec<(&'static str, String)> {
    key.map(|k| vec![("authorization", auth(k))])
        .unwrap_or_default()
}

pub async fn call(
    h: &Harness,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let hs = headers(key);
    let hs: Vec<(&str, &str)> = hs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    h.call(method, path, &hs, body).await
}

/// Uploads `lines` and creates a batch of them; returns the batch object.
pub async fn submit(h: &Harness, key: Option<&str>, lines: &[String], endpoint: &str) -> Value {
    let f = upload(h, key, lines.join("\n").as_bytes()).await;
    assert_eq!(f.status, 200, "{}", f.text());
    let file = f.json();
    assert_eq!(file["object"], "file");
    assert_eq!(file["purpose"], "batch");
    let body = json!({"input_file_id": file["id"], "endpoint": endpoint,
                      "completion_window": "24h", "metadata": {"job": "nightly"}});
    let b = call(h, "POST", "/v1/batches", key, Some(&body)).await;
    assert_eq!(b.status, 200, "{}", b.text());
    b.json()
}

/// Polls the batch until its status is one of `until`.
pub async fn wait(h: &Harness, key: Option<&str>, id: &str, until: &[&str]) -> Value {
    for _ in 0..400 {
        let b = call(h, "GET", &format!("/v1/batches/{id}"), key, None)
            .await
            .json();
        if until.iter().any(|s| b["status"] == *s) {
            return b;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("batch {id} never reached {until:?}");
}

/// A file's JSONL lines.
pub async fn lines_of(h: &Harness, key: Option<&str>, file: &Value) -> Vec<Value> {
    let id = file.as_str().unwrap_or_default();
    let r = call(h, "GET", &format!("/v1/files/{id}/content"), key, None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
