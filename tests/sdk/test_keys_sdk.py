"""Virtual keys as real clients meet them: a second gateway with a master key and keys made by
`switchyard keys create`; the official openai and anthropic SDKs raise their own exception
classes for 401, 403 and 429, and the admin API manages keys over HTTP."""

from __future__ import annotations

import json
import re

import anthropic
import httpx
import openai
import pytest

from conftest import GATEWAY_CONFIG, MAX_BODY_BYTES, STARTUP_TIMEOUT_S, _spawn, _wait_ready

MASTER = "sy-master-key-for-sdk-tests-000000"


def _cli(binary, ledger, *args):
    import subprocess

    r = subprocess.run(
        [str(binary), "keys", *args, "--ledger", str(ledger)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def keyed(switchyard_bin, tmp_path_factory, sim_url):
    """A gateway whose ledger already holds keys made with the CLI."""
    work = tmp_path_factory.mktemp("keyed")
    ledger = work / "keyed.db"
    made = json.loads(
        _cli(switchyard_bin, ledger, "create", "--team", "sdk", "--route", "chat", "--json")
    )
    slow = json.loads(_cli(switchyard_bin, ledger, "create", "--rpm", "1", "--json"))
    listing = _cli(switchyard_bin, ledger, "list")
    assert made["key_info"]["id"] in listing and made["key"] not in listing
    cfg = work / "gateway.toml"
    cfg.write_text(GATEWAY_CONFIG.format(max_body=MAX_BODY_BYTES, ledger=ledger, sim_url=sim_url))
    env = {"SIM_API_KEY": "sim-test-key", "SWITCHYARD_MASTER_KEY": MASTER, "PATH": "/usr/bin:/bin"}
    proc = _spawn("keyed-gateway", [str(switchyard_bin), "serve", "--config", str(cfg)], work / "gw.log", env)
    try:
        m = proc.wait_for_line(re.compile(r"^switchyard listening on (http://\S+?)/?$"), STARTUP_TIMEOUT_S)
        url = m.group(1)
        _wait_ready(url, proc)
        yield {
            "url": url,
            "key": made["key"],
            "id": made["key_info"]["id"],
            "slow": slow["key"],
            "config": cfg,
            "proc": proc,
        }
    finally:
        proc.stop()


def _openai(url, key):
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=30)


def _anthropic(url, key):
    return anthropic.Anthropic(base_url=url, api_key=key, max_retries=0, timeout=30)


def test_a_valid_key_works_and_carries_its_limits(keyed):
    c = _openai(keyed["url"], keyed["key"])
    raw = c.chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": "hello"}]
    )
    assert raw.parse().choices[0].message.content
    a = _anthropic(keyed["url"], keyed["key"])
    msg = a.messages.create(model="chat", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert msg.content[0].text


def test_a_wrong_key_raises_each_sdks_authentication_error(keyed):
    with pytest.raises(openai.AuthenticationError) as e:
        _openai(keyed["url"], "sk-sy-not-a-real-key").chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hi"}]
        )
    assert e.value.status_code == 401
    with pytest.raises(anthropic.AuthenticationError):
        _anthropic(keyed["url"], "sk-sy-not-a-real-key").messages.create(
            model="chat", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
        )


def test_a_route_outside_the_key_raises_permission_denied(keyed):
    with pytest.raises(openai.PermissionDeniedError) as e:
        _openai(keyed["url"], keyed["key"]).chat.completions.create(
            model="fallback", messages=[{"role": "user", "content": "hi"}]
        )
    assert "may not use route" in str(e.value)
    with pytest.raises(anthropic.PermissionDeniedError):
        _anthropic(keyed["url"], keyed["key"]).messages.create(
            model="claude", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
        )


def test_a_key_over_its_rate_limit_raises_rate_limit_error(keyed):
    c = _openai(keyed["url"], keyed["slow"])
    c.chat.completions.create(model="chat", messages=[{"role": "user", "content": "one"}])
    with pytest.raises(openai.RateLimitError) as e:
        c.chat.completions.create(model="chat", messages=[{"role": "user", "content": "two"}])
    assert int(e.value.response.headers["retry-after"]) >= 1


def test_the_admin_api_creates_and_revokes_keys(keyed):
    admin = httpx.Client(base_url=keyed["url"], headers={"authorization": f"Bearer {MASTER}"}, timeout=30)
    r = admin.post("/admin/keys", json={"team": "made-over-http"})
    assert r.status_code == 201, r.text
    secret, key_id = r.json()["key"], r.json()["key_info"]["id"]
    c = _openai(keyed["url"], secret)
    c.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
    listed = admin.get("/admin/keys").text
    assert key_id in listed and secret not in listed
    assert admin.post(f"/admin/keys/{key_id}/revoke").status_code == 200
    with pytest.raises(openai.AuthenticationError):
        c.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
    status = admin.get("/v1/status").json()
    assert any(r["name"] == "chat" for r in status["routes"])


def test_sighup_reloads_the_config_and_a_broken_file_changes_nothing(keyed):
    import signal
    import time

    c = _openai(keyed["url"], keyed["key"])

    def model_now():
        raw = c.chat.completions.with_raw_response.create(
            model="chat", messages=[{"role": "user", "content": "which model?"}]
        )
        return raw.headers["x-switchyard-model"]

    assert model_now() == "gpt-4o-mini"
    cfg = keyed["config"]
    original = cfg.read_text()
    cfg.write_text(original.replace('model = "gpt-4o-mini"', 'model = "gpt-4.1-mini"', 1))
    keyed["proc"].popen.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while model_now() != "gpt-4.1-mini":
        assert time.monotonic() < deadline, "SIGHUP did not reload the config"
        time.sleep(0.1)
    # A broken file is refused: the gateway keeps serving the last good config.
    cfg.write_text("this is not toml [")
    keyed["proc"].popen.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert keyed["proc"].popen.poll() is None
    assert model_now() == "gpt-4.1-mini"
    cfg.write_text(original)
