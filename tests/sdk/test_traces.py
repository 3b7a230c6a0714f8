"""OpenTelemetry traces against a real OTLP/HTTP receiver (otlp_receiver.py decodes the
protobuf with `opentelemetry-proto`): the gateway's own simulator and two gateways (content
capture off and on) exporting to it, real OpenAI SDK clients sending chat requests."""

from __future__ import annotations

import os
import re
import time

import httpx
import openai
import pytest

import otlp_receiver
from conftest import STARTUP_TIMEOUT_S, _spawn, _wait_ready

SIM = """\
seed = 11
[defaults]
ttft_ms = 0
tokens_per_second = 0
[models."slow-model"]
ttft_ms = 120
[models."always-500"]
error_rate = 1.0
"""

GATEWAY = """\
[server]
listen = "127.0.0.1:0"
[ledger]
path = "{ledger}"
[providers.sim]
kind = "openai-compatible"
base_url = "{sim}/v1"
price_provider = "openai"
[telemetry]
otlp_endpoint = "{otlp}"
service_name = "switchyard-test"
batch_interval_ms = {interval}
capture_content = {capture}
headers_env = {{ authorization = "OTLP_TEST_AUTH" }}

[[routes]]
name = "chat"
workload = "support"
[[routes.targets]]
provider = "sim"
model = "slow-model"

[[routes]]
name = "fallback"
[[routes.targets]]
provider = "sim"
model = "always-500"
[[routes.targets]]
provider = "sim"
model = "gpt-4o-mini"
"""

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"


@pytest.fixture(scope="module")
def receiver():
    r = otlp_receiver.start()
    yield r
    r.close()


@pytest.fixture(scope="module")
def sim(switchyard_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("trace-sim")
    (d / "sim.toml").write_text(SIM)
    proc = _spawn(
        "sim",
        [str(switchyard_bin), "sim", "--listen", "127.0.0.1:0", "--config", str(d / "sim.toml")],
        d / "sim.log",
        dict(os.environ),
    )
    try:
        m = proc.wait_for_line(re.compile(r"listening on (http://\S+?)/?$"), STARTUP_TIMEOUT_S)
        yield m.group(1)
    finally:
        proc.stop()


def _gateway(switchyard_bin, tmp_path_factory, sim, receiver, capture: bool, interval: int = 100):
    d = tmp_path_factory.mktemp("trace-gw")
    cfg = d / "switchyard.toml"
    cfg.write_text(
        GATEWAY.format(
            ledger=d / "ledger.db",
            sim=sim,
            otlp=receiver.url,
            capture=str(capture).lower(),
            interval=interval,
        )
    )
    env = dict(os.environ, OTLP_TEST_AUTH="Bearer otlp-test-token")
    proc = _spawn("gateway", [str(switchyard_bin), "serve", "--config", str(cfg)], d / "gw.log", env)
    m = proc.wait_for_line(re.compile(r"listening on (http://\S+?)/?$"), STARTUP_TIMEOUT_S)
    _wait_ready(m.group(1), proc)
    return m.group(1), proc


@pytest.fixture(scope="module")
def gw(switchyard_bin, tmp_path_factory, sim, receiver):
    url, proc = _gateway(switchyard_bin, tmp_path_factory, sim, receiver, capture=False)
    yield url
    proc.stop()


@pytest.fixture(scope="module")
def gw_capture(switchyard_bin, tmp_path_factory, sim, receiver):
    url, proc = _gateway(switchyard_bin, tmp_path_factory, sim, receiver, capture=True)
    yield url
    proc.stop()


def _client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="test", max_retries=0, timeout=30)


def _chat(url: str, route: str, content: str = "hello", headers=None, stream=False):
    raw = _client(url).chat.completions.with_raw_response.create(
        model=route,
        messages=[{"role": "user", "content": content}],
        stream=stream,
        stream_options={"include_usage": True} if stream else openai.NOT_GIVEN,
        extra_headers=headers or {},
    )
    rid = raw.headers["x-switchyard-request-id"]
    return rid, raw.parse()


def test_a_chat_request_is_one_server_span_with_the_genai_attributes_and_a_child_per_attempt(gw, receiver):
    rid, answer = _chat(gw, "chat", headers={"x-switchyard-workload": "support"})
    server, attempt = receiver.take(rid, 2)
    assert server.kind == "SERVER" and attempt.kind == "CLIENT"
    assert server.name == "chat chat" and attempt.name == "chat slow-model"
    a = server.attributes
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "sim"
    assert a["gen_ai.request.model"] == "chat"
    assert a["gen_ai.response.model"] == "slow-model"
    assert a["gen_ai.usage.input_tokens"] == answer.usage.prompt_tokens
    assert a["gen_ai.usage.output_tokens"] == answer.usage.completion_tokens
    assert a["gen_ai.response.finish_reasons"] == [answer.choices[0].finish_reason]
    assert a["switchyard.route"] == "chat" and a["switchyard.workload"] == "support"
    assert a["switchyard.attempts"] == 1 and a["http.response.status_code"] == 200
    assert "switchyard.cost_usd" not in a  # the catalog has no price for slow-model
    assert "gen_ai.input.messages" not in a and "gen_ai.output.messages" not in a
    assert a["switchyard.stage.execute_us"] >= 100_000
    assert server.resource["service.name"] == "switchyard-test"
    # One trace: the attempt is the request span's child, inside it in time.
    assert attempt.trace_id == server.trace_id and attempt.parent_span_id == server.span_id
    assert server.parent_span_id == ""
    assert server.start_ns <= attempt.start_ns and attempt.end_ns <= server.end_ns
    # Real timing: the simulator waits 120 ms before answering.
    assert attempt.duration_ms >= 100 and server.duration_ms >= attempt.duration_ms
    assert attempt.attributes["gen_ai.request.model"] == "slow-model"
    assert attempt.attributes["http.response.status_code"] == 200
    # The exporter posts protobuf to /v1/traces with the configured auth header.
    path, ctype, headers = receiver.posts[-1]
    assert (path, ctype) == ("/v1/traces", "application/x-protobuf")
    assert headers.get("authorization") == "Bearer otlp-test-token"


def test_a_streamed_request_is_traced_when_the_stream_ends_with_its_usage(gw, receiver):
    rid, stream = _chat(gw, "chat", stream=True)
    chunks = list(stream)
    usage = next(c.usage for c in chunks if c.usage)
    (server, attempt) = receiver.take(rid, 2)
    a = server.attributes
    assert a["switchyard.streamed"] is True
    assert a["gen_ai.usage.output_tokens"] == usage.completion_tokens
    assert a["gen_ai.usage.input_tokens"] == usage.prompt_tokens
    assert a["switchyard.ttft_ms"] >= 100
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish and a["gen_ai.response.finish_reasons"] == finish
    assert attempt.parent_span_id == server.span_id


def test_the_clients_traceparent_is_continued_and_an_unsampled_one_is_not_exported(gw, receiver):
    parent = f"00-{TRACE_ID}-{CLIENT_SPAN}-01"
    rid, _ = _chat(gw, "chat", headers={"traceparent": parent, "tracestate": "vendor=abc"})
    server, attempt = receiver.take(rid, 2)
    assert server.trace_id == TRACE_ID and attempt.trace_id == TRACE_ID
    assert server.parent_span_id == CLIENT_SPAN
    assert server.trace_state == "vendor=abc"
    unsampled, _ = _chat(gw, "chat", headers={"traceparent": f"00-{TRACE_ID}-{CLIENT_SPAN}-00"})
    # A later, sampled request proves the exporter has flushed past the unsampled one.
    later, _ = _chat(gw, "chat")
    receiver.take(later, 2)
    time.sleep(0.3)
    assert not [s for s in receiver.spans if s.attributes.get("switchyard.request_id") == unsampled]
    # A malformed traceparent starts a new trace rather than failing the request.
    bad, _ = _chat(gw, "chat", headers={"traceparent": "00-zz-nothing-01"})
    (s, _) = receiver.take(bad, 2)
    assert s.trace_id != TRACE_ID and s.parent_span_id == ""


def test_a_fallback_is_two_attempt_spans_the_failed_one_marked_as_an_error(gw, receiver):
    rid, _ = _chat(gw, "fallback")
    server, *attempts = receiver.take(rid, 3)
    assert server.attributes["switchyard.attempts"] == 2
    attempts.sort(key=lambda s: s.attributes["switchyard.attempt"])
    first, second = attempts
    assert first.attributes["gen_ai.request.model"] == "always-500"
    assert first.attributes["http.response.status_code"] == 500
    assert first.attributes["error.type"] == "server_error" and first.status_code == 2
    assert second.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert second.status_code == 0 and "error.type" not in second.attributes
    assert first.end_ns <= second.start_ns
    assert server.attributes["gen_ai.response.model"] == "gpt-4o-mini"
    # The ledger's price, as decimal text (never a float).
    assert re.fullmatch(r"0\.\d+", server.attributes["switchyard.cost_usd"])


def test_a_refused_request_is_traced_with_its_error(gw, receiver):
    r = httpx.post(
        gw + "/v1/chat/completions",
        json={"model": "no-such-route", "messages": [{"role": "user", "content": "x"}]},
    )
    assert r.status_code == 404
    (server,) = receiver.take(r.headers["x-switchyard-request-id"], 1)
    assert server.attributes["error.type"] == "unknown_route"
    assert server.attributes["http.response.status_code"] == 404
    assert server.attributes["switchyard.attempts"] == 0


def test_captured_content_is_exported_redacted_only_when_enabled(gw_capture, receiver):
    rid, answer = _chat(gw_capture, "chat", content="write to alice@example.com please")
    (server, _) = receiver.take(rid, 2)
    a = server.attributes
    assert "[EMAIL]" in a["gen_ai.input.messages"]
    assert "alice@example.com" not in a["gen_ai.input.messages"]
    assert '"role":"user"' in a["gen_ai.input.messages"]
    assert answer.choices[0].message.content[:20] in a["gen_ai.output.messages"]


def test_a_graceful_stop_exports_the_spans_still_queued(switchyard_bin, tmp_path_factory, sim, receiver):
    # A batch interval of ten minutes: only the stop's flush can send this span in time.
    url, proc = _gateway(switchyard_bin, tmp_path_factory, sim, receiver, capture=False, interval=600_000)
    try:
        rid, _ = _chat(url, "chat")
        time.sleep(0.3)
        assert not [s for s in receiver.spans if s.attributes.get("switchyard.request_id") == rid]
    finally:
        proc.stop()  # SIGTERM: drain, then the tracer's flush
    assert proc.popen.returncode == 0
    server, attempt = receiver.take(rid, 2, timeout=1.0)
    assert attempt.parent_span_id == server.span_id
