//! The three model endpoints served without the router: `POST /v1/chat/completions`,
//! `/v1/embeddings` and `/v1/messages` carry nearly all traffic, and the router's path match,
//! layers and extractors cost ~7 % of a keyed chat request in release (docs/benchmarks.md).
//!
//! A request is hot only when its method is POST, its path is one of the three exactly and its
//! target is within the URI limit; everything else (these paths with another method, a long
//! target, any other path) goes through the router, so the 405s, 404s, 414s and layers stay
//! where they are. A hot request gets what the router's layers would give it: the handler
//! (which refuses itself while the gateway stops, and records the refusal), then
//! [`edge::finish`]. The route table stays the one list of what is served: a test checks each
//! hot path is in it, with POST, through the pipeline.

use crate::edge::{self, Dialect};
use crate::{anthropic, openai};
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request};
use axum::response::Response;
use switchyard_gateway::Gateway;

/// A request the connection serves directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hot {
    Chat,
    Embeddings,
    Messages,
}

impl Hot {
    pub(crate) const ALL: [Hot; 3] = [Hot::Chat, Hot::Embeddings, Hot::Messages];

    pub(crate) fn path(self) -> &'static str {
        match self {
            Hot::Chat => "/v1/chat/completions",
            Hot::Embeddings => "/v1/embeddings",
            Hot::Messages => "/v1/messages",
        }
    }

    /// The hot endpoint `req` asks for, if it is one (see the module's rule).
    pub(crate) fn of<B>(req: &Request<B>) -> Option<Hot> {
        if req.method() != Method::POST {
            return None;
        }
        let hot = Hot::ALL
            .into_iter()
            .find(|h| h.path() == req.uri().path())?;
        edge::refuse_long_target(Dialect::OpenAi, req.uri())
            .is_none()
            .then_some(hot)
    }

    /// The handler's answer, finished as the edge layer finishes every answer.
    pub(crate) async fn serve(self, gw: Gateway, req: Request<Body>) -> Response {
        let (parts, body) = req.into_parts();
        let (resp, dialect) = match self {
            Hot::Chat => (
                openai::chat(State(gw.clone()), parts.headers, body).await,
                Dialect::OpenAi,
            ),
            Hot::Embeddings => (
                openai::embeddings(State(gw.clone()), parts.headers, body).await,
                Dialect::OpenAi,
            ),
            Hot::Messages => (
                anthropic::messages(State(gw.clone()), parts.headers, body).await,
                Dialect::Anthropic,
            ),
        };
        edge::finish(&gw, dialect, (&Method::POST, self.path()), resp).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, target: &str) -> Request<()> {
        Request::builder()
            .method(method)
            .uri(target)
            .body(())
            .unwrap()
    }

    #[test]
    fn only_a_post_to_one_of_the_three_paths_is_hot() {
        assert_eq!(
            Hot::of(&request(Method::POST, "/v1/chat/completions")),
            Some(Hot::Chat)
        );
        assert_eq!(
            Hot::of(&request(Method::POST, "/v1/messages?beta=true")),
            Some(Hot::Messages)
        );
        assert_eq!(Hot::of(&request(Method::GET, "/v1/chat/completions")), None);
        assert_eq!(
            Hot::of(&request(Method::POST, "/v1/chat/completions/")),
            None
        );
        assert_eq!(
            Hot::of(&request(Method::POST, "/v1/messages/count_tokens")),
            None
        );
        assert_eq!(Hot::of(&request(Method::POST, "/v1/models")), None);
    }

    #[test]
    fn a_target_over_the_uri_limit_is_left_to_the_router_for_its_414() {
        let long = format!("/v1/chat/completions?q={}", "a".repeat(edge::MAX_URI_BYTES));
        assert_eq!(Hot::of(&request(Method::POST, &long)), None);
    }

    #[test]
    fn every_hot_path_is_served_by_the_route_table_with_post_through_the_pipeline() {
        for hot in Hot::ALL {
            assert!(
                crate::routes::posts_through_pipeline(hot.path()),
                "{} is not in the route table as a POST through the pipeline",
                hot.path()
            );
        }
    }
}
