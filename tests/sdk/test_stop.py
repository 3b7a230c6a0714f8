"""A graceful stop of the real binary on SIGTERM, as clients see it.

Its own simulator (with a slow model) and gateway, since the test stops the gateway. During the
grace period: `/readyz` is 503, a request on a keep-alive connection pooled before the stop and
one on a new connection get 503 with `Retry-After` and `Connection: close`; the request in flight
finishes with 200; then the process exits 0 without waiting out the grace period.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import threading
import time

from conftest import GATEWAY_CONFIG, MAX_BODY_BYTES, _spawn, _wait_ready

SLOW_SIM = """\
seed = 7
[defaults]
ttft_ms = 0
tokens_per_second = 0
[models."gpt-4o-mini"]
ttft_ms = 2000
tokens_per_second = 0
"""

CHAT = json.dumps({"model": "chat", "messages": [{"role": "user", "content": "hi"}]})
MESSAGES = json.dumps({"model": "chat", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]})


def _post(conn: http.client.HTTPConnection, path: str, body: str):
    conn.request("POST", path, body=body, headers={"content-type": "application/json"})
    r = conn.getresponse()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()


def test_sigterm_answers_503_on_new_and_pooled_connections_and_lets_the_request_in_flight_finish(
    switchyard_bin, workdir
):
    sim_cfg = workdir / "stop-sim.toml"
    sim_cfg.write_text(SLOW_SIM)
    sim = _spawn("stop-sim", [str(switchyard_bin), "sim", "--listen", "127.0.0.1:0",
                              "--config", str(sim_cfg)], workdir / "stop-sim.log", dict(os.environ))
    gw = None
    try:
        sim_url = sim.wait_for_line(re.compile(r"^switchyard sim listening on (http://\S+?)/?$"), 30).group(1)
        cfg = workdir / "stop.toml"
        cfg.write_text(GATEWAY_CONFIG.format(max_body=MAX_BODY_BYTES, ledger=workdir / "stop.db", sim_url=sim_url))
        gw = _spawn("stop-gateway", [str(switchyard_bin), "serve", "--config", str(cfg)],
                    workdir / "stop-gateway.log", dict(os.environ, SIM_API_KEY="k"))
        url = gw.wait_for_line(re.compile(r"^switchyard listening on (http://\S+?)/?$"), 30).group(1)
        _wait_ready(url, gw)
        host, port = url.removeprefix("http://").rsplit(":", 1)

        pooled = http.client.HTTPConnection(host, int(port), timeout=10)
        pooled.request("GET", "/healthz")
        assert pooled.getresponse().read() == b"ok"

        in_flight = {}

        def slow():
            c = http.client.HTTPConnection(host, int(port), timeout=10)
            in_flight["answer"] = _post(c, "/v1/chat/completions", CHAT)

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)
        gw.popen.send_signal(signal.SIGTERM)
        time.sleep(0.3)

        fresh = http.client.HTTPConnection(host, int(port), timeout=5)
        fresh.request("GET", "/readyz")
        r = fresh.getresponse()
        assert r.status == 503 and json.loads(r.read())["status"] == "stopping"

        for conn, path, request in ((pooled, "/v1/chat/completions", CHAT),
                                    (http.client.HTTPConnection(host, int(port), timeout=5), "/v1/messages", MESSAGES)):
            status, headers, body = _post(conn, path, request)
            assert status == 503, body
            assert headers.get("retry-after") == "1" and headers.get("connection") == "close"
            err = json.loads(body)
            assert (err["type"] == "error") if path == "/v1/messages" else (err["error"]["code"] == "shutting_down")

        t.join(timeout=10)
        assert in_flight["answer"][0] == 200, in_flight
        assert gw.popen.wait(timeout=5) == 0, gw.log_tail()
    finally:
        if gw is not None:
            gw.stop()
        sim.stop()
