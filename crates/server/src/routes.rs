//! The route table: every path the gateway serves, its methods and handlers, in one list.
//!
//! The router is built from this list and the 404 for an unknown path names the client
//! endpoints from the same list, so the message cannot drift from what is served.

use crate::edge::{self, Dialect};
use crate::{admin, anthropic, batch_api, metrics, openai, responses_api, strategy_api, ui};
use axum::Router;
use axum::handler::Handler;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::routing::MethodRouter;
use switchyard_gateway::Gateway;

/// Who an endpoint is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// The model API the SDKs call; listed in the 404.
    Client,
    /// Probes: they answer while the gateway stops (`/readyz` then says 503 itself).
    Probe,
    /// Status, administration.
    Operator,
    /// The strategy API, behind its own key check.
    Strategy,
}

/// One path: its methods (as served) and their handlers.
struct Endpoint {
    path: &'static str,
    audience: Audience,
    /// The handler refuses requests itself while the gateway stops (the pipeline does, and
    /// records the refusal in the ledger).
    refuses_itself: bool,
    methods: Vec<&'static str>,
    router: MethodRouter<Gateway>,
}

macro_rules! method {
    ($name:ident, $verb:literal) => {
        fn $name<H, T>(mut self, handler: H) -> Self
        where
            H: Handler<T, Gateway>,
            T: 'static,
        {
            self.methods.push($verb);
            self.router = self.router.$name(handler);
            self
        }
    };
}

impl Endpoint {
    fn new(path: &'static str, audience: Audience) -> Self {
        Endpoint {
            path,
            audience,
            refuses_itself: false,
            methods: Vec::new(),
            router: MethodRouter::new(),
        }
    }
    fn through_pipeline(mut self) -> Self {
        self.refuses_itself = true;
        self
    }
    method!(get, "GET");
    method!(post, "POST");
    method!(patch, "PATCH");
    method!(delete, "DELETE");
}

fn endpoints() -> Vec<Endpoint> {
    use Audience::{Client, Operator, Probe, Strategy};
    vec![
        Endpoint::new("/v1/chat/completions", Client)
            .through_pipeline()
            .post(openai::chat),
        Endpoint::new("/v1/embeddings", Client)
            .through_pipeline()
            .post(openai::embeddings),
        Endpoint::new("/v1/responses", Client)
            .through_pipeline()
            .post(openai::responses),
        Endpoint::new("/v1/responses/input_tokens", Client).post(responses_api::input_tokens),
        Endpoint::new("/v1/responses/{id}", Client)
            .get(responses_api::get)
            .delete(responses_api::delete),
        Endpoint::new("/v1/responses/{id}/input_items", Client).get(responses_api::input_items),
        Endpoint::new("/v1/responses/{id}/cancel", Client).post(responses_api::cancel),
        Endpoint::new("/v1/messages", Client)
            .through_pipeline()
            .post(anthropic::messages),
        Endpoint::new("/v1/messages/count_tokens", Client).post(anthropic::count_tokens),
        Endpoint::new("/v1/models", Client).get(openai::models),
        // batch: OpenAI's files and batches API (crate switchyard-batch).
        Endpoint::new("/v1/files", Client).post(batch_api::upload),
        Endpoint::new("/v1/files/{id}", Client)
            .get(batch_api::get_file)
            .delete(batch_api::delete_file),
        Endpoint::new("/v1/files/{id}/content", Client).get(batch_api::file_content),
        Endpoint::new("/v1/batches", Client)
            .post(batch_api::create_batch)
            .get(batch_api::list_batches),
        Endpoint::new("/v1/batches/{id}", Client).get(batch_api::get_batch),
        Endpoint::new("/v1/batches/{id}/cancel", Client).post(batch_api::cancel_batch),
        Endpoint::new("/healthz", Probe).get(|| async { "ok" }),
        Endpoint::new("/readyz", Probe).get(openai::ready),
        Endpoint::new("/v1/status", Operator).get(admin::status),
        Endpoint::new("/metrics", Operator).get(metrics::main_listener),
        Endpoint::new("/admin/status", Operator).get(admin::admin_status),
        Endpoint::new("/admin/reload", Operator).post(admin::reload),
        Endpoint::new("/admin/keys", Operator)
            .post(admin::create_key)
            .get(admin::list_keys),
        Endpoint::new("/admin/keys/{id}", Operator)
            .get(admin::get_key)
            .patch(admin::update_key)
            .delete(admin::revoke_key),
        Endpoint::new("/admin/keys/{id}/rotate", Operator).post(admin::rotate_key),
        Endpoint::new("/admin/keys/{id}/revoke", Operator).post(admin::revoke_key),
        Endpoint::new("/v1/strategy/spend", Strategy).get(strategy_api::spend),
        Endpoint::new("/v1/strategy/lockin", Strategy).get(strategy_api::lockin),
        Endpoint::new("/v1/strategy/deprecations", Strategy).get(strategy_api::deprecations),
        Endpoint::new("/v1/strategy/report", Strategy).get(strategy_api::report),
        // dashboard: the pages (no key needed to load them) and their API (crate::ui).
        Endpoint::new("/ui", Operator).get(ui::assets::index),
        Endpoint::new("/ui/", Operator).get(ui::assets::index),
        Endpoint::new("/ui/{file}", Operator).get(ui::assets::file),
        Endpoint::new("/v1/dashboard/session", Operator).get(ui::keys::session),
        Endpoint::new("/v1/dashboard/overview", Operator).get(ui::overview::overview),
        Endpoint::new("/v1/dashboard/traffic", Operator).get(ui::traffic::traffic),
        Endpoint::new("/v1/dashboard/requests", Operator).get(ui::traffic::requests),
        Endpoint::new("/v1/dashboard/keys", Operator).get(ui::keys::keys),
        Endpoint::new("/v1/dashboard/shock", Operator).get(ui::strategy::shock),
        Endpoint::new("/v1/dashboard/report", Operator).get(ui::strategy::report),
        Endpoint::new("/v1/dashboard/contracts", Operator).post(ui::contracts::contracts),
        Endpoint::new("/v1/dashboard/evaluation", Operator).get(ui::strategy::evaluation),
    ]
}

/// The full route table, with the edge layer (stop rule, JSON errors) around all of it;
/// `batches` serves the batch API's handlers.
pub fn app(gateway: Gateway, batches: switchyard_batch::Batches) -> Router {
    let mut router = Router::new();
    for e in endpoints() {
        let mut handler = match e.audience {
            Audience::Strategy => e.router.route_layer(axum::middleware::from_fn_with_state(
                gateway.clone(),
                strategy_api::guard,
            )),
            _ => e.router,
        };
        if e.audience != Audience::Probe && !e.refuses_itself {
            handler = handler.route_layer(axum::middleware::from_fn_with_state(
                gateway.clone(),
                edge::refuse_when_stopping,
            ));
        }
        router = router.route(e.path, handler);
    }
    let inner = router
        .fallback(not_found)
        .layer(axum::Extension(batches))
        .with_state(gateway.clone());
    // Around the whole table as one service: `Router::layer` would wrap each method's
    // handler instead, inside the method router, and miss the `Allow` header of its 405.
    Router::new()
        .fallback_service(inner)
        .layer(axum::middleware::from_fn_with_state(gateway, edge::guard))
}

/// `POST /v1/chat/completions, … and GET /v1/models`: the client endpoints, as served.
pub fn client_endpoints() -> String {
    let list: Vec<String> = endpoints()
        .iter()
        .filter(|e| e.audience == Audience::Client)
        .flat_map(|e| e.methods.iter().map(move |m| format!("{m} {}", e.path)))
        .collect();
    match list.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Every `(method, path)` of the operator, strategy and batch APIs, as served: what
/// docs/openapi.json must describe (its test, `tests/openapi.rs`, compares the two).
pub fn operator_routes() -> Vec<(&'static str, &'static str)> {
    let batch = |p: &str| p.starts_with("/v1/files") || p.starts_with("/v1/batches");
    endpoints()
        .iter()
        .filter(|e| matches!(e.audience, Audience::Operator | Audience::Strategy) || batch(e.path))
        .flat_map(|e| e.methods.iter().map(move |m| (*m, e.path)))
        .collect()
}

/// Whether `path` is in the table with POST and handled through the pipeline (the hot paths'
/// check that the table still serves them the same way).
#[cfg(test)]
pub(crate) fn posts_through_pipeline(path: &str) -> bool {
    endpoints()
        .iter()
        .any(|e| e.path == path && e.refuses_itself && e.methods.contains(&"POST"))
}

async fn not_found(uri: Uri) -> Response {
    // A hostile path may be 64 KiB long: echo enough of it to recognise.
    let shown: String = uri.path().chars().take(200).collect();
    let more = if shown.len() < uri.path().len() {
        "…"
    } else {
        ""
    };
    let message = format!(
        "Unknown endpoint {shown}{more}. This gateway serves {}.",
        client_endpoints()
    );
    edge::error_response(
        Dialect::of_path(uri.path()),
        StatusCode::NOT_FOUND,
        &message,
    )
}
