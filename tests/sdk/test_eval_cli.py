"""The evaluation loop through the CLI, as a team would run it: captured traffic becomes a
dataset, a replay gives a verdict (and an exit code for CI), readiness shows the evidence, and
the strategy engine's lock-in uses it. promptfoo-style suites import as datasets too."""

from __future__ import annotations

import json
import time


def _cli(gateway, *args):
    r = gateway.run_cli(*args, timeout=120)
    return r


def _ensure_captures(client, n=6):
    for i in range(n):
        client.chat.completions.create(
            model="chat",
            messages=[{"role": "user", "content": f"Customer {i} asks: where is my order? Email me at c{i}@example.com"}],
        )


def test_captured_traffic_becomes_a_dataset_and_a_replay_gives_a_verdict(gateway, client):
    _ensure_captures(client)
    time.sleep(0.5)
    caps = _cli(gateway, "eval", "captures", "--workload", "support")
    assert caps.returncode == 0, caps.stderr
    assert "support" in caps.stdout
    assert "@example.com" not in caps.stdout, "captures are redacted"

    made = _cli(gateway, "eval", "dataset", "create", "--workload", "support", "--name", "support-cli", "--limit", "5")
    assert made.returncode == 0, made.stderr
    assert "support-cli@v" in made.stdout and "5 items" in made.stdout
    shown = _cli(gateway, "eval", "dataset", "show", "support-cli", "--json")
    items = json.loads(shown.stdout)["items"]
    assert len(items) == 5
    assert all("[EMAIL]" in json.dumps(i["input"]) or "@" not in json.dumps(i["input"]) for i in items)

    # The same model behind another route answers the same: PASS, exit 0 under --ci.
    scorer = '{"type": "regex", "pattern": "\\\\w+"}'
    ok = _cli(
        gateway, "eval", "run", "--dataset", "support-cli", "--candidate", "fallback",
        "--scorer", scorer, "--format", "json", "--ci", "--resamples", "500",
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    report = json.loads(ok.stdout)
    assert report["verdict"]["outcome"] == "pass"
    assert report["paired"] == 5 and report["baseline"] == "captured"
    assert report["deltas"]["candidate_latency_ms"]["n"] == 5

    # A candidate that fails every request: FAIL, and --ci exits 1.
    bad = _cli(
        gateway, "eval", "run", "--dataset", "support-cli", "--candidate", "broken",
        "--scorer", scorer, "--ci", "--resamples", "500",
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAIL" in bad.stdout

    # A rubric without a threshold is an error, not a silent pass.
    nothresh = _cli(
        gateway, "eval", "run", "--dataset", "support-cli", "--candidate", "fallback",
        "--scorer", '{"type": "judge", "route": "chat", "rubric": "Is it polite?"}',
    )
    assert nothresh.returncode != 0
    assert "threshold" in nothresh.stderr

    ready = _cli(gateway, "eval", "readiness", "--json")
    assert ready.returncode == 0, ready.stderr
    ev = json.loads(ready.stdout)
    latest = {e["candidate"]: e for e in ev}
    assert latest["broken"]["passed"] is False
    assert latest["fallback"]["passed"] is True and latest["fallback"]["samples"] == 5

    md = _cli(gateway, "eval", "run", "--dataset", "support-cli", "--candidate", "fallback",
              "--scorer", scorer, "--format", "markdown", "--resamples", "200")
    assert md.stdout.startswith("# Evaluation: fallback vs captured")


def test_readiness_lowers_lock_in(gateway, client):
    _ensure_captures(client, 3)
    _cli(gateway, "eval", "dataset", "create", "--workload", "support", "--name", "lockin-set", "--limit", "3")
    scorer = '{"type": "regex", "pattern": "\\\\w+"}'
    run = _cli(gateway, "eval", "run", "--dataset", "lockin-set", "--candidate", "fallback",
               "--scorer", scorer, "--resamples", "200")
    assert run.returncode == 0, run.stderr
    time.sleep(0.5)
    out = _cli(gateway, "strategy", "lockin", "--json")
    assert out.returncode == 0, out.stderr
    support = next(w for w in json.loads(out.stdout) if w["workload"] == "support")
    factor = next(f for f in support["factors"] if f["name"] == "evaluation readiness")
    assert factor["points"] == 0, factor
    assert "proven on" in factor["why"]


def test_promptfoo_suites_import_and_run(gateway, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        """
prompts:
  - "Answer briefly: {{question}}"
tests:
  - vars: {question: "What is the capital of France?"}
    assert:
      - type: regex
        value: "\\\\w+"
  - vars: {question: "Name a primary colour."}
    assert:
      - type: regex
        value: "\\\\w+"
"""
    )
    imp = _cli(gateway, "eval", "dataset", "import", str(suite), "--name", "pf-suite", "--workload", "support")
    assert imp.returncode == 0, imp.stderr
    assert "2 items" in imp.stdout
    run = _cli(gateway, "eval", "run", "--dataset", "pf-suite", "--candidate", "fallback",
               "--baseline", "chat", "--format", "json", "--resamples", "200")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["paired"] == 2 and report["verdict"]["outcome"] == "pass"

    broken = tmp_path / "bad.yaml"
    broken.write_text("tests:\n  - vars: {q: x}\n    assert:\n      - type: javascript\n        value: 'output.length > 3'\n")
    bad = _cli(gateway, "eval", "dataset", "import", str(broken), "--name", "bad")
    assert bad.returncode != 0
    assert "javascript" in bad.stderr
