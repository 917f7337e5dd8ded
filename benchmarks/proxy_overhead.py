"""What the proxy adds to a call: ``guard serve`` with every layer off against the fake upstream called directly.

Sequential requests (one at a time, keep-alive) with the same httpx client,
first straight to the upstream, then through the proxy; the added latency is
the difference of the two distributions' percentiles. The proxy runs pinned to
one core, the client and the upstream on the other (benchmarks.perf.procs).
Records are written as in production (telemetry on, SQLite); review off. The
proxy's CPU time per request is printed too: on a shared, busy machine it
says more than wall-clock percentiles do.

    python -m benchmarks.proxy_overhead --requests 1000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.perf.procs import CLIENT_CORE, free_port, server

BODY = {"model": "openai/bench", "messages": [{"role": "user", "content": "How many days do I have to return a lamp?"}]}
CONFIG = """\
models: {{default: openai/bench, max_attempts: 1}}
telemetry: {{database: '{db}', enabled: {records}}}
grounding: {{enabled: false}}
support: {{enabled: false}}
citations: {{enabled: false}}
consistency: {{enabled: false}}
review: {{enabled: false}}
logging: {{level: warning}}
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timings(url: str, requests: int, warmup: int = 50) -> list[float]:
    with httpx.Client(timeout=30) as client:
        for _ in range(warmup):
            client.post(url, json=BODY).raise_for_status()
        out = []
        for _ in range(requests):
            t0 = time.perf_counter()
            client.post(url, json=BODY).raise_for_status()
            out.append((time.perf_counter() - t0) * 1000)
    return out


def main(requests: int, records: bool) -> None:
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {int(CLIENT_CORE)})
    guard_cli = str(Path(sys.executable).parent / "guard")
    with tempfile.TemporaryDirectory() as tmp:
        up_port, proxy_port = free_port(), free_port()
        config = Path(tmp) / "guard.yaml"
        config.write_text(CONFIG.format(db=f"{tmp}/guard.db", records=str(records).lower()))
        upstream_url = f"http://127.0.0.1:{up_port}/v1"
        env = {"OPENAI_BASE_URL": upstream_url, "OPENAI_API_BASE": upstream_url, "OPENAI_API_KEY": "sk-bench",
               "LITELLM_LOCAL_MODEL_COST_MAP": "True", "HF_HUB_OFFLINE": "1"}
        with server([sys.executable, "-m", "benchmarks.perf.upstream", "--port", str(up_port)], port=up_port,
                    ready_path="/healthz", log=Path(tmp) / "upstream.log", core=CLIENT_CORE), \
             server([guard_cli, "serve", "--config", str(config), "--port", str(proxy_port)], port=proxy_port,
                    ready_path="/healthz", log=Path(tmp) / "proxy.log", env=env) as proxy:
            direct = timings(upstream_url + "/chat/completions", requests)
            proxy_url = f"http://127.0.0.1:{proxy_port}/v1/chat/completions"
            timings(proxy_url, 0)  # warm-up only: first requests pay lazy imports
            cpu_before = cpu_seconds(proxy.pid)
            proxied = timings(proxy_url, requests, warmup=0)
            cpu_ms = (cpu_seconds(proxy.pid) - cpu_before) / requests * 1000
    print(f"requests={requests} sequential, keep-alive; proxy on 1 core, all layers off, "
          f"records {'on' if records else 'off'}")
    print(f"{'':10} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, values in (("direct", direct), ("proxy", proxied)):
        print(f"{name:10} {percentile(values, .5):8.2f} {percentile(values, .99):8.2f} {statistics.fmean(values):8.2f}")
    print(f"{'added':10} {percentile(proxied, .5) - percentile(direct, .5):8.2f} "
          f"{percentile(proxied, .99) - percentile(direct, .99):8.2f} "
          f"{statistics.fmean(proxied) - statistics.fmean(direct):8.2f}")
    print(f"proxy CPU per request: {cpu_ms:.2f} ms (user+system); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--no-records", dest="records", action="store_false", help="telemetry.enabled: false")
    args = parser.parse_args()
    main(args.requests, args.records)
