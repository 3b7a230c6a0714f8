use super::*;
use std::sync::Mutex;
use switchyard_protocol::openai::ChatRequest;
use switchyard_providers::{Dialect, ProviderKind, ResponseBody, SendFuture};

/// A provider that replays a script of outcomes and counts calls.
struct Scripted {
    name: String,
    script: Mutex<Vec<Option<u16>>>,
}

impl Provider for Scripted {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> ProviderKind {
        ProviderKind::OpenAiCompatible
    }
    fn dialect(&self) -> Dialect {
        Dialect::OpenAi
    }
    fn send<'a>(&'a self, _req: ProviderRequest<'a>) -> SendFuture<'a> {
        let next = self.script.lock().unwrap().remove(0);
        let name = self.name.clone();
        Box::pin(async move {
            match next {
                None => Ok(ProviderResponse {
                    status: 200,
                    content_type: None,
                    body: ResponseBody::Full(bytes::Bytes::from_static(b"{}")),
                    dialect: Dialect::OpenAi,
                    dropped: Vec::new(),
                }),
                Some(status) => Err(ProviderError::Status {
                    provider: name,
                    status,
                    retry_after: None,
                    message: "x".into(),
                    body: bytes::Bytes::new(),
                }),
            }
        })
    }
}

fn route(scripts: Vec<Vec<Option<u16>>>) -> Route<()> {
    let targets = scripts
        .into_iter()
        .enumerate()
        .map(|(i, s)| Target {
            provider: Arc::new(Scripted {
                name: format!("p{i}"),
                script: Mutex::new(s),
            }) as Arc<dyn Provider>,
            model: format!("m{i}"),
            meta: (),
        })
        .collect();
    Route {
        name: "r".into(),
        targets,
        policy: Box::new(Fallback),
        allow_drop: Vec::new(),
    }
}

fn body() -> &'static [u8] {
    br#"{"model":"r","messages":[{"role":"user","content":"hi"}]}"#
}

#[tokio::test]
async fn falls_back_on_5xx_and_429_and_logs_every_attempt() {
    let r = route(vec![vec![Some(503)], vec![Some(429)], vec![None]]);
    let req = ChatRequest::parse(body()).unwrap();
    let ok = r.execute(Payload::Chat(&req)).await.ok().unwrap();
    assert_eq!(ok.target, 2);
    let classes: Vec<_> = ok
        .attempts
        .iter()
        .map(|a| a.error.as_ref().map(|e| e.class))
        .collect();
    assert_eq!(
        classes,
        [
            Some(ErrorClass::Server),
            Some(ErrorClass::RateLimited),
            None
        ]
    );
}

#[tokio::test]
async fn client_errors_are_not_retried_elsewhere() {
    let r = route(vec![vec![Some(400)], vec![None]]);
    let req = ChatRequest::parse(body()).unwrap();
    let err = r.execute(Payload::Chat(&req)).await.err().unwrap();
    assert_eq!(err.attempts.len(), 1);
    assert_eq!(err.last.unwrap().status(), Some(400));
}

#[tokio::test]
async fn exhausted_route_reports_all_attempts() {
    let r = route(vec![vec![Some(500)], vec![Some(502)]]);
    let req = ChatRequest::parse(body()).unwrap();
    let err = r.execute(Payload::Chat(&req)).await.err().unwrap();
    assert_eq!(
        err.attempts
            .iter()
            .map(|a| a.provider.as_str())
            .collect::<Vec<_>>(),
        ["p0", "p1"]
    );
}
