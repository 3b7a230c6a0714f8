"""Session fixtures: one simulated provider, one gateway in front of it, real SDK clients.

The binary is taken from $SWITCHYARD_BIN (default: target/debug/switchyard relative to
the repo root). Both processes listen on port 0 and announce their address on stdout,
so tests never race for fixed ports.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import openai
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Route names the gateway is configured with; tests check they are listed.
ROUTES = ("chat", "fallback", "ratelimited", "broken", "embed")
MAX_BODY_BYTES = 65536
STARTUP_TIMEOUT_S = 30.0

SIM_CONFIG = """\
seed = 7

[defaults]
ttft_ms = 0
tokens_per_second = 0

# Deterministic failure models: probabilities of 1.0 make every call fail the same way.
[models."always-429"]
rate_429 = 1.0
retry_after_s = 1

[models."always-500"]
error_rate = 1.0
"""

GATEWAY_CONFIG = """\
[server]
listen = "127.0.0.1:0"
max_body_bytes = {max_body}

[ledger]
path = "{ledger}"

[providers.sim]
kind = "openai-compatible"
base_url = "{sim_url}/v1"
# Exercised on purpose: the fixture sets this variable for the gateway process.
api_key_env = "SIM_API_KEY"

[[routes]]
name = "chat"
workload = "support"
[[routes.targets]]
provider = "sim"
model = "gpt-4o-mini"
# Every answer on this route is captured (redacted) for the evaluation tests.
[routes.capture]
rate = 1.0

# First target always 500s, so every success here proves fallback happened.
[[routes]]
name = "fallback"
workload = "sdk-tests"
[[routes.targets]]
provider = "sim"
model = "always-500"
[[routes.targets]]
provider = "sim"
model = "gpt-4o-mini"

[[routes]]
name = "ratelimited"
workload = "sdk-tests"
[[routes.targets]]
provider = "sim"
model = "always-429"

[[routes]]
name = "broken"
workload = "sdk-tests"
[[routes.targets]]
provider = "sim"
model = "always-500"

[[routes]]
name = "embed"
workload = "sdk-tests"
[[routes.targets]]
provider = "sim"
model = "text-embedding-3-small"

# The exact response cache (test_cache_sdk.py): temperature-0 requests repeat from the store.
[[routes]]
name = "cached"
workload = "sdk-tests"
[[routes.targets]]
provider = "sim"
model = "gpt-4o-mini"
[routes.cache]
scope = "global"

# The same simulator, spoken to in Anthropic's Messages dialect.
[providers.claude]
kind = "anthropic"
base_url = "{sim_url}"
api_key_env = "SIM_API_KEY"

[[routes]]
name = "claude"
workload = "sdk-tests"
[[routes.targets]]
provider = "claude"
model = "claude-sonnet-4-5"

# …and in Gemini's generateContent dialect.
[providers.google]
kind = "gemini"
base_url = "{sim_url}"
api_key_env = "SIM_API_KEY"

[[routes]]
name = "gemini"
workload = "sdk-tests"
[[routes.targets]]
provider = "google"
model = "gemini-2.5-flash"

# A Gemini 3 model: it signs its function calls and refuses a replayed call without its
# thought signature, which the gateway carries in the tool-call id.
[[routes]]
name = "gemini3"
workload = "sdk-tests"
[[routes.targets]]
provider = "google"
model = "gemini-3.5-flash"

# An OpenAI-kind provider speaks the Responses API natively: /v1/responses passes through.
[providers.openai]
kind = "openai"
base_url = "{sim_url}/v1"
api_key_env = "SIM_API_KEY"

[[routes]]
name = "responses-native"
workload = "sdk-tests"
[[routes.targets]]
provider = "openai"
model = "gpt-4o-mini"

[[routes]]
name = "reasoner"
workload = "sdk-tests"
[[routes.targets]]
provider = "openai"
model = "o4-mini"

[[routes]]
name = "reasoner-chat"
workload = "sdk-tests"
[[routes.targets]]
provider = "sim"
model = "o4-mini"
"""


def _binary() -> Path:
    path = Path(os.environ.get("SWITCHYARD_BIN", "target/debug/switchyard"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file():
        pytest.fail(
            f"switchyard binary not found at {path}; build it with "
            "`cargo build -p switchyard-cli` or set SWITCHYARD_BIN",
            pytrace=False,
        )
    return path


@dataclass
class Proc:
    """A child process whose stdout is drained by a thread (so it can never block on a
    full pipe) and whose stderr goes to a log file we can quote when things go wrong."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    lines: queue.Queue = field(default_factory=queue.Queue)

    def log_tail(self, n: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-n:])

    def wait_for_line(self, pattern: re.Pattern, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.popen.poll() is not None and self.lines.empty():
                    break
                continue
            if line is None:  # EOF
                break
            seen.append(line)
            m = pattern.search(line)
            if m:
                return m
        raise RuntimeError(
            f"{self.name} did not print a line matching {pattern.pattern!r} "
            f"(exit code {self.popen.poll()}).\nstdout: {seen!r}\nstderr tail:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)


def _spawn(name: str, argv: list[str], log_path: Path, env: dict[str, str]) -> Proc:
    log = open(log_path, "wb")
    popen = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=log,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
        bufsize=1,
        cwd=REPO_ROOT,
    )
    log.close()  # the child holds its own copy of the descriptor
    proc = Proc(name=name, popen=popen, log_path=log_path)

    def drain() -> None:
        assert popen.stdout is not None
        for line in popen.stdout:
            proc.lines.put(line.rstrip("\n"))
        proc.lines.put(None)

    threading.Thread(target=drain, name=f"{name}-stdout", daemon=True).start()
    return proc


@dataclass
class Gateway:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    config_path: Path
    ledger_path: Path
    binary: Path
    env: dict[str, str]
    proc: Proc

    def run_cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run `switchyard <args> --config <gateway config>` and return the result."""
        return subprocess.run(
            [str(self.binary), *args, "--config", str(self.config_path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            cwd=REPO_ROOT,
        )


@pytest.fixture(scope="session")
def switchyard_bin() -> Path:
    return _binary()


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("switchyard")


@pytest.fixture(scope="session")
def sim_url(switchyard_bin, workdir) -> str:
    cfg = workdir / "sim.toml"
    cfg.write_text(SIM_CONFIG)
    proc = _spawn(
        "sim",
        [str(switchyard_bin), "sim", "--listen", "127.0.0.1:0", "--config", str(cfg)],
        workdir / "sim.log",
        dict(os.environ),
    )
    try:
        m = proc.wait_for_line(
            re.compile(r"^switchyard sim listening on (http://\S+?)/?$"), STARTUP_TIMEOUT_S
        )
        yield m.group(1)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def gateway(switchyard_bin, workdir, sim_url) -> Gateway:
    ledger = workdir / "switchyard.db"
    cfg = workdir / "switchyard.toml"
    cfg.write_text(
        GATEWAY_CONFIG.format(max_body=MAX_BODY_BYTES, ledger=ledger, sim_url=sim_url)
    )
    env = dict(os.environ, SIM_API_KEY="sim-test-key")
    proc = _spawn(
        "gateway",
        [str(switchyard_bin), "serve", "--config", str(cfg)],
        workdir / "gateway.log",
        env,
    )
    try:
        m = proc.wait_for_line(
            re.compile(r"^switchyard listening on (http://\S+?)/?$"), STARTUP_TIMEOUT_S
        )
        url = m.group(1)
        _wait_ready(url, proc)
        yield Gateway(
            url=url, config_path=cfg, ledger_path=ledger, binary=switchyard_bin, env=env, proc=proc
        )
    finally:
        proc.stop()


def _wait_ready(url: str, proc: Proc) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last = "no response"
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            break
        try:
            r = httpx.get(f"{url}/readyz", timeout=2)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except httpx.HTTPError as e:
            last = repr(e)
        time.sleep(0.1)
    raise RuntimeError(
        f"gateway not ready at {url}/readyz ({last}, exit code {proc.popen.poll()}).\n"
        f"stderr tail:\n{proc.log_tail()}"
    )


@pytest.fixture(scope="session")
def client(gateway) -> openai.OpenAI:
    # max_retries=0: the SDK must see the gateway's first answer, or error tests would
    # silently retry (and the 429 test would sleep on Retry-After).
    c = openai.OpenAI(base_url=gateway.url + "/v1", api_key="test", max_retries=0, timeout=30)
    yield c
    c.close()


@pytest.fixture(scope="session")
def http(gateway) -> httpx.Client:
    """A plain HTTP client for what the SDK cannot send (malformed JSON, raw bodies)."""
    with httpx.Client(base_url=gateway.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def anthropic_client(gateway):
    """The official anthropic SDK pointed at the gateway's /v1/messages."""
    import anthropic

    c = anthropic.Anthropic(base_url=gateway.url, api_key="test", max_retries=0, timeout=30)
    yield c
    c.close()
