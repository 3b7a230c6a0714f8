"""A real OTLP/HTTP trace receiver for the tests: it decodes each protobuf
`ExportTraceServiceRequest` posted to /v1/traces with the official `opentelemetry-proto`
package and keeps the spans, flattened for assertions. It answers like a collector does
(200 with an `ExportTraceServiceResponse`), or, when told to, stalls or refuses."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan


def _value(v: AnyValue):
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


@dataclass
class Span:
    name: str
    kind: str  # SERVER, CLIENT, ...
    trace_id: str
    span_id: str
    parent_span_id: str
    trace_state: str
    start_ns: int
    end_ns: int
    status_code: int  # 0 unset, 1 ok, 2 error
    attributes: dict
    resource: dict
    flags: int

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


@dataclass
class Receiver:
    url: str = ""
    spans: list = field(default_factory=list)
    posts: list = field(default_factory=list)  # (path, content_type, headers)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stall_s: float = 0.0
    server: ThreadingHTTPServer | None = None

    def take(self, request_id: str, count: int, timeout: float = 10.0) -> list:
        """The spans of one request (server span first), waiting for `count` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                server = [
                    s
                    for s in self.spans
                    if s.attributes.get("switchyard.request_id") == request_id
                ]
                if server:
                    ids = {s.span_id for s in server}
                    children = [s for s in self.spans if s.parent_span_id in ids]
                    found = server + children
                    if len(found) >= count:
                        return found
            time.sleep(0.05)
        with self.lock:
            names = [(s.name, s.attributes.get("switchyard.request_id")) for s in self.spans]
        raise AssertionError(f"no {count} spans for {request_id} in {timeout}s; have {names}")

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def _decode(receiver: Receiver, body: bytes) -> None:
    req = ExportTraceServiceRequest()
    req.ParseFromString(body)
    out = []
    for rs in req.resource_spans:
        resource = {a.key: _value(a.value) for a in rs.resource.attributes}
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append(
                    Span(
                        name=s.name,
                        kind=PbSpan.SpanKind.Name(s.kind).removeprefix("SPAN_KIND_"),
                        trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(),
                        parent_span_id=s.parent_span_id.hex(),
                        trace_state=s.trace_state,
                        start_ns=s.start_time_unix_nano,
                        end_ns=s.end_time_unix_nano,
                        status_code=s.status.code,
                        attributes={a.key: _value(a.value) for a in s.attributes},
                        resource=resource,
                        flags=s.flags,
                    )
                )
    with receiver.lock:
        receiver.spans.extend(out)


def start() -> Receiver:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.lock:
                receiver.posts.append((self.path, self.headers.get("content-type"), dict(self.headers)))
            if receiver.stall_s:
                time.sleep(receiver.stall_s)
            if self.path != "/v1/traces":
                self.send_response(404)
                self.end_headers()
                return
            _decode(receiver, body)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.server = server
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
