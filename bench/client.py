#!/usr/bin/env python3
"""Sequential keep-alive client for the benchmarks: sends one body N times and reports.

Usage: bench/client.py URL BODY_FILE N [KEY]
Extra request headers come from BENCH_HEADERS ("name: value" pairs separated by ";"), e.g.
BENCH_HEADERS="cache-control: no-cache" for exact-cache misses that still write.
Prints one line: "ok=<answers with 200> ttfb_us=<median time to first body byte>
chunks=<SSE data events in the last answer>". Exits 1 if any answer is not 200.
"""

import http.client
import os
import statistics
import sys
import time
import urllib.parse


def main():
    url, body_file, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    key = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
    u = urllib.parse.urlsplit(url)
    body = open(body_file, "rb").read()
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    for pair in filter(None, os.environ.get("BENCH_HEADERS", "").split(";")):
        name, _, value = pair.partition(":")
        headers[name.strip()] = value.strip()
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    ttfb, ok, chunks = [], 0, 0
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("POST", u.path or "/v1/chat/completions", body, headers)
        resp = conn.getresponse()
        first = resp.read1(65536)  # waits for the first piece of the body
        ttfb.append(time.perf_counter() - t0)
        rest = first + resp.read()
        if resp.status == 200:
            ok += 1
        else:
            sys.stderr.write(f"status {resp.status}: {rest[:300]!r}\n")
        chunks = rest.count(b"data:")
    print(f"ok={ok} ttfb_us={statistics.median(ttfb) * 1e6:.0f} chunks={chunks}")
    sys.exit(0 if ok == n else 1)


if __name__ == "__main__":
    main()
