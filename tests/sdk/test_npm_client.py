"""The official `openai` npm package's streaming helper with tools (tests/npm/stream_tools.mjs)
and its Responses API (tests/npm/responses.mjs), against routes whose targets speak OpenAI's,
Anthropic's and Gemini's dialects."""

import os
import pathlib
import shutil
import subprocess

NPM_DIR = pathlib.Path(__file__).resolve().parents[1] / "npm"


def test_openai_npm_stream_helper_with_tools(gateway):
    node = shutil.which("node")
    assert node, "node is required (Debian: apt-get install nodejs)"
    assert (NPM_DIR / "node_modules" / "openai").is_dir(), "run `npm ci --prefix tests/npm` first (scripts/test.sh does)"
    result = subprocess.run(
        [node, str(NPM_DIR / "stream_tools.mjs"), "chat", "claude", "gemini"],
        env=dict(os.environ, GATEWAY_URL=gateway.url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["ok", "chat", "ok", "claude", "ok", "gemini"]


def test_openai_npm_responses_api(gateway):
    node = shutil.which("node")
    assert node, "node is required (Debian: apt-get install nodejs)"
    assert (NPM_DIR / "node_modules" / "openai").is_dir(), "run `npm ci --prefix tests/npm` first (scripts/test.sh does)"
    routes = ["responses-native", "chat", "claude", "gemini"]
    result = subprocess.run(
        [node, str(NPM_DIR / "responses.mjs"), *routes],
        env=dict(os.environ, GATEWAY_URL=gateway.url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [w for r in routes for w in ("ok", r)]
