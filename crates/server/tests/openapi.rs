//! docs/openapi.json against the route table: every method and path of the admin, status,
//! strategy, batch and dashboard APIs the server registers is described, nothing under those prefixes is
//! described that the server does not serve, and each operation says how it authenticates
//! and what it answers (with the OpenAI-shaped error for its failures).

#![expect(
    clippy::expect_used,
    reason = "test helpers: a malformed description should fail the test loudly"
)]

use serde_json::Value;
use std::collections::BTreeSet;

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("docs/openapi.json is not JSON: {e}"))
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn described(spec: &Value) -> BTreeSet<(String, String)> {
    let paths = spec["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(p, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_uppercase(), p.clone()))
        })
        .collect()
}

/// Prefixes whose every path the description owns.
fn owned(path: &str) -> bool {
    [
        "/admin/",
        "/v1/strategy/",
        "/v1/files",
        "/v1/batches",
        "/v1/status",
        "/metrics",
        "/v1/dashboard/",
        "/ui",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

#[test]
fn every_operator_strategy_and_batch_route_the_server_registers_is_described() {
    let spec = spec();
    assert_eq!(spec["openapi"], "3.1.0");
    let served: BTreeSet<(String, String)> = switchyard_server::operator_routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert!(served.len() >= 20, "the table lists {served:?}");
    let described = described(&spec);
    let missing: Vec<_> = served.difference(&described).collect();
    assert!(
        missing.is_empty(),
        "served but not in docs/openapi.json: {missing:?}"
    );
    let stale: Vec<_> = described
        .iter()
        .filter(|(_, p)| owned(p))
        .filter(|r| !served.contains(*r))
        .collect();
    assert!(
        stale.is_empty(),
        "in docs/openapi.json but not served: {stale:?}"
    );
}

#[test]
fn every_operation_names_its_security_and_answers_and_every_reference_resolves() {
    let spec = spec();
    let schemes = spec["components"]["securitySchemes"]
        .as_object()
        .expect("schemes");
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for m in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let op = &item[*m];
            let at = format!("{} {path}", m.to_uppercase());
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{at}: no security"));
            for s in security
                .iter()
                .flat_map(|s| s.as_object().into_iter().flatten())
            {
                assert!(schemes.contains_key(s.0), "{at}: unknown scheme {}", s.0);
            }
            let responses = op["responses"]
                .as_object()
                .unwrap_or_else(|| panic!("{at}: no responses"));
            assert!(
                responses.keys().any(|c| c.starts_with('2')),
                "{at}: no success answer"
            );
            // The dashboard's page and assets are public (sign-in happens in the page); every
            // other operation needs a key and says what a missing one gets.
            assert!(
                security.is_empty() || responses.contains_key("401"),
                "{at}: the 401 of a missing key"
            );
            if path.contains("{id}") {
                let params = item["parameters"]
                    .as_array()
                    .unwrap_or_else(|| panic!("{at}: no id"));
                assert!(
                    params
                        .iter()
                        .any(|p| p["name"] == "id" && p["in"] == "path"),
                    "{at}"
                );
            }
        }
    }
    // Every `$ref` names something in components.
    let text = spec.to_string();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = r.split('"').next().unwrap_or_default();
        let pointer = target.trim_start_matches('#');
        assert!(spec.pointer(pointer).is_some(), "dangling $ref {target}");
    }
}
