"""The evaluation loop end to end with a real open-weight model: SmolLM2-135M-Instruct served by
llama-cpp-python (scripts/local-model/serve-smollm2.sh) is the shadow candidate and the replay
candidate of a route whose primary is the simulator.

capture → shadow → dataset → replay → verdict → readiness, all through the real binary.

Slow to set up the first time (llama.cpp compiles, ~5 min, then pip's wheel cache makes it
seconds), so it runs only with SWITCHYARD_LOCAL_MODEL=1: a separate step of .ci/run, not part of
scripts/test.sh.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import httpx
import openai
import pytest

from conftest import REPO_ROOT, STARTUP_TIMEOUT_S, _spawn, _wait_ready

pytestmark = pytest.mark.skipif(
    os.environ.get("SWITCHYARD_LOCAL_MODEL") != "1",
    reason="set SWITCHYARD_LOCAL_MODEL=1 to run the SmolLM2 end-to-end test (see scripts/local-model)",
)

QUESTIONS = [
    "What is the capital of France? Answer in one sentence.",
    "What is the capital of Italy? Answer in one sentence.",
    "What is the capital of Spain? Answer in one sentence.",
    "What is the capital of Germany? Answer in one sentence.",
    "What is the capital of Japan? Answer in one sentence.",
    "Name the largest ocean on Earth in one sentence.",
    "What colour is the sky on a clear day? Answer in one sentence.",
    "How many days are in a week? Answer in one sentence.",
]


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory):
    work = tmp_path_factory.mktemp("smollm2")
    proc = _spawn(
        "smollm2",
        ["bash", str(REPO_ROOT / "scripts/local-model/serve-smollm2.sh"), "0"],
        work / "smollm2.log",
        dict(os.environ),
    )
    try:
        m = proc.wait_for_line(re.compile(r"^smollm2 listening on (http://\S+)$"), 900)
        yield m.group(1)
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def local_gateway(switchyard_bin, tmp_path_factory, sim_url, smollm2):
    work = tmp_path_factory.mktemp("local-gw")
    ledger = work / "switchyard.db"
    cfg = work / "gateway.toml"
    cfg.write_text(
        f"""
[server]
listen = "127.0.0.1:0"
[ledger]
path = "{ledger}"
[eval]
shadow_concurrency = 2
[providers.sim]
kind = "openai-compatible"
base_url = "{sim_url}/v1"
[providers.local]
kind = "llamacpp"
base_url = "{smollm2}/v1"
timeout_ms = 120000

[[routes]]
name = "support"
workload = "support"
targets = [{{ provider = "sim", model = "gpt-4o-mini" }}]
[routes.capture]
rate = 1.0
[[routes.shadow]]
provider = "local"
model = "SmolLM2-135M-Instruct"
rate = 1.0
timeout_ms = 120000

[[routes]]
name = "smollm2"
targets = [{{ provider = "local", model = "SmolLM2-135M-Instruct", timeout_ms = 120000 }}]
"""
    )
    proc = _spawn("local-gateway", [str(switchyard_bin), "serve", "--config", str(cfg)], work / "gw.log", dict(os.environ))
    try:
        m = proc.wait_for_line(re.compile(r"^switchyard listening on (http://\S+?)/?$"), STARTUP_TIMEOUT_S)
        url = m.group(1)
        _wait_ready(url, proc)
        yield {"url": url, "config": cfg, "ledger": ledger, "bin": switchyard_bin}
    finally:
        proc.stop()


def _cli(gw, *args, timeout=600):
    r = subprocess.run(
        [str(gw["bin"]), *args, "--config", str(gw["config"])],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )
    return r


def test_the_real_model_answers_through_the_gateway(local_gateway):
    c = openai.OpenAI(base_url=local_gateway["url"] + "/v1", api_key="unused", max_retries=0, timeout=120)
    r = c.chat.completions.create(
        model="smollm2", messages=[{"role": "user", "content": QUESTIONS[0]}], temperature=0, max_tokens=32
    )
    assert "Paris" in r.choices[0].message.content
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0


def test_capture_shadow_dataset_replay_verdict_readiness(local_gateway, tmp_path):
    url = local_gateway["url"]
    c = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=120)
    # Production traffic on the simulator, captured and mirrored to SmolLM2.
    for q in QUESTIONS:
        c.chat.completions.create(model="support", messages=[{"role": "user", "content": q}], max_tokens=32, temperature=0)
    deadline = time.monotonic() + 300
    while True:
        e = httpx.get(url + "/v1/status", timeout=10).json().get("evaluation", {})
        done = e.get("shadow_sent", 0) + e.get("shadow_failed", 0) + e.get("shadow_skipped_busy", 0)
        if done >= len(QUESTIONS):
            break
        assert time.monotonic() < deadline, e
        time.sleep(0.5)
    assert e["shadow_sent"] >= 1, e

    made = _cli(local_gateway, "eval", "dataset", "create", "--workload", "support", "--name", "capitals")
    assert made.returncode == 0, made.stderr
    assert f"{len(QUESTIONS)} items" in made.stdout

    # Replay against the captured (simulator) answers: a real verdict with real numbers.
    run = _cli(
        local_gateway, "eval", "run", "--dataset", "capitals", "--candidate", "smollm2",
        "--scorer", '{"type": "regex", "pattern": "[A-Za-z]{3,}"}',
        "--concurrency", "2", "--format", "json", "--resamples", "2000",
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["paired"] == len(QUESTIONS)
    assert report["verdict"]["outcome"] in ("pass", "fail")
    assert all(r["candidate"]["output"] for r in report["results"]), "SmolLM2 answered every item"

    # A factual suite where the open-weight model should beat the simulator's filler text.
    suite = tmp_path / "capitals.yaml"
    suite.write_text(
        "prompts:\n  - '{{q}}'\ntests:\n"
        + "".join(
            f"  - vars: {{q: '{q}'}}\n    assert:\n      - type: icontains\n        value: '{a}'\n"
            for q, a in [(QUESTIONS[0], "Paris"), (QUESTIONS[1], "Rome"), (QUESTIONS[3], "Berlin"), (QUESTIONS[4], "Tokyo")]
        )
    )
    imp = _cli(local_gateway, "eval", "dataset", "import", str(suite), "--name", "facts", "--workload", "support")
    assert imp.returncode == 0, imp.stderr
    facts = _cli(
        local_gateway, "eval", "run", "--dataset", "facts", "--candidate", "smollm2", "--baseline", "support",
        "--format", "json", "--resamples", "2000",
    )
    assert facts.returncode == 0, facts.stderr
    f = json.loads(facts.stdout)
    assert f["summary"]["mean_candidate"] > f["summary"]["mean_baseline"], f["summary"]

    ready = _cli(local_gateway, "eval", "readiness", "--json")
    assert ready.returncode == 0, ready.stderr
    ev = json.loads(ready.stdout)
    sources = {e["source"].split(" ")[0] for e in ev if "SmolLM2" in e["candidate"] or e["candidate"] == "smollm2"}
    assert {"replay", "shadow"} <= sources, ev
