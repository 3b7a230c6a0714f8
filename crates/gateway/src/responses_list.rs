//! `GET /v1/responses/{id}/input_items`: a stored response's input items as OpenAI's paged
//! list (`object: "list"`, `data`, `first_id`, `last_id`, `has_more`). Items the client sent
//! without an id get a stable one from the response id and their position, so `after` pages.

use crate::error::GatewayError;
use crate::responses_api::Page;
use serde::Deserialize;
use serde_json::value::RawValue;
use switchyard_ledger::responses::Row;

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

#[derive(Deserialize)]
struct Id {
    #[serde(default)]
    id: Option<String>,
}

/// One page of `row`'s input items.
pub(crate) fn page(row: &Row, page: Page<'_>) -> Result<String, GatewayError> {
    let limit = match page.limit {
        None => DEFAULT_LIMIT,
        Some(n @ 1..=MAX_LIMIT) => n,
        Some(_) => {
            return Err(GatewayError::InvalidRequest(
                switchyard_protocol::FieldError::new(
                    "limit",
                    format!("`limit` must be between 1 and {MAX_LIMIT}."),
                ),
            ));
        }
    };
    let raw: Vec<&RawValue> = serde_json::from_str(&row.input_items)
        .map_err(|e| GatewayError::StoreFailed(format!("stored input items: {e}")))?;
    let base = row.id.trim_start_matches("resp_");
    let mut items: Vec<(String, String)> = raw
        .iter()
        .enumerate()
        .map(|(i, item)| with_id(item.get(), &format!("in_{base}_{i:03}")))
        .collect();
    if !page.ascending {
        items.reverse();
    }
    let start = match page.after {
        None => 0,
        Some(after) => match items.iter().position(|(id, _)| id == after) {
            Some(i) => i + 1,
            None => {
                return Err(GatewayError::InvalidRequest(
                    switchyard_protocol::FieldError::new(
                        "after",
                        format!("`after` {after:?} is not an item of this response."),
                    ),
                ));
            }
        },
    };
    let rest = items.get(start..).unwrap_or_default();
    let shown = &rest[..rest.len().min(limit)];
    let id_json = |i: Option<&(String, String)>| {
        i.map_or("null".to_string(), |(id, _)| {
            serde_json::to_string(id).unwrap_or_default()
        })
    };
    let data: Vec<&str> = shown.iter().map(|(_, text)| text.as_str()).collect();
    Ok(format!(
        r#"{{"object":"list","data":[{}],"first_id":{},"last_id":{},"has_more":{}}}"#,
        data.join(","),
        id_json(shown.first()),
        id_json(shown.last()),
        rest.len() > shown.len()
    ))
}

/// The item's id and text, an `id` member added first when it has none.
fn with_id(item: &str, fallback: &str) -> (String, String) {
    match serde_json::from_str::<Id>(item).ok().and_then(|i| i.id) {
        Some(id) => (id, item.to_string()),
        None => {
            let rest = item.trim_start().trim_start_matches('{').trim_start();
            let sep = if rest.starts_with('}') { "" } else { "," };
            (
                fallback.to_string(),
                format!(r#"{{"id":"{fallback}"{sep}{rest}"#),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn row() -> Row {
        Row {
            id: "resp_x".into(),
            key_id: String::new(),
            created_at: 0,
            expires_at: 1,
            response: "{}".into(),
            input_items: r#"[{"role":"user","content":"a"},{"id":"msg_b","role":"user","content":"b"},{"role":"user","content":"c"}]"#.into(),
            conversation: "[]".into(),
        }
    }

    fn list(p: Page<'_>) -> Value {
        serde_json::from_str(&page(&row(), p).unwrap()).unwrap()
    }

    #[test]
    fn items_page_newest_first_by_default_and_after_continues() {
        let v = list(Page {
            limit: Some(2),
            ..Page::default()
        });
        let ids: Vec<&str> = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["in_x_002", "msg_b"]);
        assert_eq!(v["has_more"], true);
        assert_eq!(v["last_id"], "msg_b");
        let v = list(Page {
            limit: Some(2),
            after: Some("msg_b"),
            ..Page::default()
        });
        assert_eq!(v["data"][0]["id"], "in_x_000");
        assert_eq!(v["data"][0]["content"], "a");
        assert_eq!(v["has_more"], false);
        let v = list(Page {
            ascending: true,
            ..Page::default()
        });
        assert_eq!(v["first_id"], "in_x_000");
    }

    #[test]
    fn a_bad_limit_or_cursor_is_a_400_naming_it() {
        let e = page(
            &row(),
            Page {
                limit: Some(0),
                ..Page::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.param(), Some("limit"));
        let e = page(
            &row(),
            Page {
                after: Some("nope"),
                ..Page::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.param(), Some("after"));
    }
}
