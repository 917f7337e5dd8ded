"""Each figure of issue 12, measured against its reference in the same run.

Every function takes the run's ``Bench`` (working folder, the fake upstream's
address) and returns a flat dict of figures plus the machine's load average
when it was measured, so a noisy figure can be told from a slow one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.perf import corpus, litellm_env, pyspy
from benchmarks.perf.procs import CLIENT_CORE, ROOT, SERVER_CORE, free_port, loadavg, pinned, rss_mb, run_load, server

GUARD_MODEL = "openai/bench"  # what clients of guard name: models.default
UPSTREAM_MODEL = "bench"
CHAT = "/v1/chat/completions"
LAYERS_OFF = {"grounding": {"enabled": False}, "citations": {"enabled": False}, "support": {"enabled": False},
              "consistency": {"enabled": False}, "review": {"enabled": False}}


@dataclass
class Bench:
    """One run: where its configs and logs go, how long its windows are, and the profiles it collected."""

    work: Path
    quick: bool = False  # shorter windows, for trying the harness out; figures are then noisier
    profile: bool = False  # sample the server with py-spy during the throughput and compute loads
    profiles: list[str] = field(default_factory=list)

    def seconds(self, full: float) -> float:
        return max(2.0, full / 4) if self.quick else full

    def profiled_load(self, title: str, pid: int, mode: str, url: str, *args: str) -> dict[str, Any]:
        """``run_load`` with the server ``pid`` sampled meanwhile when profiling; the excerpt joins ``profiles``."""
        if not self.profile:
            return run_load(mode, url, *args, watch_pid=pid)
        seconds = float(args[args.index("--duration") + 1]) + float(args[args.index("--warmup") + 1])
        raw = self.work / f"profile-{len(self.profiles)}.raw"
        with pyspy.sampling(pid, seconds, raw):
            result = run_load(mode, url, *args, watch_pid=pid)
        self.profiles.append(pyspy.excerpt(raw, title))
        return result


@contextmanager
def upstream(bench: Bench, name: str, *args: str) -> Iterator[str]:
    """The fake upstream on the client core; yields its base URL (``.../v1``)."""
    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.perf.upstream", "--port", str(port), *args]
    with server(argv, port=port, ready_path="/v1/models", log=bench.work / f"upstream-{name}.log", core=CLIENT_CORE):
        yield f"http://127.0.0.1:{port}/v1"


@contextmanager
def guard_serve(bench: Bench, name: str, base: str, config: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """``guard serve`` with one worker on the server core; yields (chat URL, pid)."""
    port = free_port()
    folder = bench.work / name
    folder.mkdir(exist_ok=True)
    full: dict[str, Any] = {"models": {"default": GUARD_MODEL, "max_attempts": 1},
                            "telemetry": {"database": str(folder / "guard.db")},
                            "knowledge_base": {"path": str(folder / "kb")}}
    for section, settings in config.items():  # merged per section: the store always stays in the work folder
        full[section] = {**full.get(section, {}), **settings}
    config_file = folder / "guard.yaml"
    config_file.write_text(yaml.safe_dump(full))
    argv = [str(Path(sys.executable).with_name("guard")), "serve", "--config", str(config_file),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with server(argv, port=port, ready_path="/healthz", log=folder / "serve.log", env=_upstream_env(base)) as proc:
        url = f"http://127.0.0.1:{port}{CHAT}"
        # The first calls pay for lazy imports and model loads (seconds on a busy machine): not what is measured.
        run_load("max", url, "--concurrency", "1", "--duration", "2", "--warmup", "0", "--model", GUARD_MODEL)
        yield url, proc.pid


def _upstream_env(base: str) -> dict[str, str]:
    # One thread per process for torch and faiss: the README's advice for a serving process on a small box.
    return {"OPENAI_API_BASE": base, "OPENAI_BASE_URL": base, "OPENAI_API_KEY": "sk-bench",
            "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True", "TOKENIZERS_PARALLELISM": "false"}


def client_cost(bench: Bench, base: str) -> dict[str, Any]:
    """Reference for figures 1-2: CPU per model call of guard's model client against the clients under it."""
    load = loadavg()
    argv = pinned(SERVER_CORE, [sys.executable, "-m", "benchmarks.perf.client_cost", "--base", base,
                                "--calls", "60" if bench.quick else "200"])
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True, timeout=300,
                          env={**os.environ, **_upstream_env(base)})
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "load": _span(load)}


def passthrough_latency(bench: Bench, base: str, proxy_url: str) -> dict[str, Any]:
    """Figure 1: at a fixed 100 requests/s, latency through guard minus latency of the upstream called directly.

    When guard cannot keep up with 100/s on the machine as loaded (requests still
    open at the end), the 100/s figure is queueing, so the same is measured
    again at 20/s, where it is the proxy's own added latency.
    """
    load = loadavg()
    result = _added_latency(bench, base, proxy_url, rate=100, rounds=2)
    if result["overloaded"]:
        at20 = _added_latency(bench, base, proxy_url, rate=20, rounds=1)
        result.update({f"{k}_at_20rps": v for k, v in at20.items() if k.startswith(("passthrough_", "overloaded"))})
    return {**result, "load": _span(load)}


def _added_latency(bench: Bench, base: str, proxy_url: str, rate: int, rounds: int) -> dict[str, Any]:
    """Direct and proxied windows alternate so a change in the machine's load lands on both sides."""
    window = str(bench.seconds(10))
    direct, proxied = [], []
    for _ in range(rounds):
        direct.append(run_load("rate", base + "/chat/completions", "--rate", str(rate), "--duration", window,
                               "--model", UPSTREAM_MODEL))
        proxied.append(run_load("rate", proxy_url, "--rate", str(rate), "--duration", window, "--model", GUARD_MODEL))
    d50, d99 = _median(r["p50_ms"] for r in direct), _median(r["p99_ms"] for r in direct)
    g50, g99 = _median(r["p50_ms"] for r in proxied), _median(r["p99_ms"] for r in proxied)
    # Requests still open when the load stopped mean the server fell behind the rate: the latency is then queueing.
    unfinished = sum(int(r.get("unfinished", 0)) for r in proxied)
    return {"passthrough_p50_ms": round(g50 - d50, 3), "passthrough_p99_ms": round(g99 - d99, 3),
            "direct_p50_ms": d50, "direct_p99_ms": d99, "guard_p50_ms": g50, "guard_p99_ms": g99,
            "overloaded": unfinished > 0, "unfinished": unfinished, "non_200": _non_200(proxied)}


def streaming(bench: Bench, base: str, proxy_url: str) -> dict[str, Any]:
    """Figure 3: provisional streaming, added time to first content chunk and added mean gap between chunks."""
    load = loadavg()
    n = str(20 if bench.quick else 50)
    direct = run_load("stream", base + "/chat/completions", "--requests", n, "--model", UPSTREAM_MODEL)
    proxied = run_load("stream", proxy_url, "--requests", n, "--model", GUARD_MODEL)
    return {"stream_ttft_added_ms": round(proxied["ttft"]["p50_ms"] - direct["ttft"]["p50_ms"], 3),
            "stream_gap_added_ms": round(proxied["gap_mean_ms"] - direct["gap_mean_ms"], 3),
            "stream_direct_ttft_ms": direct["ttft"]["p50_ms"], "stream_guard_ttft_ms": proxied["ttft"]["p50_ms"],
            "stream_direct_gap_ms": direct["gap_mean_ms"], "stream_guard_gap_ms": proxied["gap_mean_ms"],
            "stream_chunks_seen": proxied["gap"]["n"] + proxied["ttft"]["n"],
            "non_200": _non_200([proxied]), "load": _span(load)}


def max_rps(bench: Bench, url: str, model: str, pid: int, label: str) -> dict[str, Any]:
    """Closed loop at 2, 8 and 32 keep-alive connections: the best completed requests/s, and the server's peak RSS.

    A sweep, because the best concurrency differs: LiteLLM's proxy serves fewer
    requests/s at 32 connections than at 8.
    """
    load = loadavg()
    sweep = [run_load("max", url, "--concurrency", str(c), "--duration", str(bench.seconds(6)), "--warmup", "2",
                      "--model", model, watch_pid=pid) for c in (2, 8, 32)]
    best = max(sweep, key=lambda r: r["rps"])
    if bench.profile:
        bench.profiled_load(f"{label}, max rps at {best['concurrency']} connections", pid, "max", url, "--concurrency",
                            str(best["concurrency"]), "--duration", "8", "--warmup", "1", "--model", model)
    cpu_ms = 1000 * sum(r["server_cpu_s"] for r in sweep) / max(1, sum(r["completed"] for r in sweep))
    return {"rps": best["rps"], "concurrency": best["concurrency"], "p50_ms": best["p50_ms"],
            "p99_ms": best["p99_ms"], "sweep": {str(r["concurrency"]): r["rps"] for r in sweep},
            "cpu_ms_per_request": round(cpu_ms, 3), "rps_per_cpu_second": round(1000 / cpu_ms, 1) if cpu_ms else None,
            "rss_peak_mb": max(r["rss_peak_mb"] for r in sweep), "non_200": _non_200(sweep), "load": _span(load)}


def rps_without_records(bench: Bench, base: str) -> dict[str, Any]:
    """Diagnostic for figure 2: the pass-through proxy with request records off, to show what recording costs."""
    with guard_serve(bench, "no-records", base, {**LAYERS_OFF, "telemetry": {"enabled": False}}) as (url, pid):
        return max_rps(bench, url, GUARD_MODEL, pid, "guard pass-through, request records off")


def litellm_rps(bench: Bench, base: str) -> dict[str, Any]:
    """Figure 2's reference: LiteLLM's proxy, own venv, one worker, same core, same upstream, no DB."""
    cli = litellm_env.ensure_venv()
    port = free_port()
    config = litellm_env.write_config(bench.work / "litellm.yaml", base, UPSTREAM_MODEL)
    argv = [str(cli), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    # No DATABASE_URL: no DB, no spend logs. No master key, as guard runs with no API key on loopback.
    env = {**_upstream_env(base), "LITELLM_LOG": "ERROR", "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true"}
    with server(argv, port=port, ready_path="/health/liveliness", log=bench.work / "litellm.log", env=env,
                timeout=180) as proc:
        # The same warm-up guard gets: LiteLLM's first requests import and build what they need.
        run_load("max", f"http://127.0.0.1:{port}{CHAT}", "--concurrency", "1", "--duration", "3", "--warmup", "0",
                 "--model", UPSTREAM_MODEL)
        version = subprocess.run([str(cli.with_name("python")), "-c", "import importlib.metadata as m;"
                                  "print(m.version('litellm'))"], capture_output=True, text=True).stdout.strip()
        return {**max_rps(bench, f"http://127.0.0.1:{port}{CHAT}", UPSTREAM_MODEL, proc.pid, "LiteLLM proxy"),
                "litellm_version": version}


def self_consistency(bench: Bench) -> dict[str, Any]:
    """Figure 5: wall time of a guarded call with 5 samples against 1, the upstream taking a fixed 200 ms."""
    load = loadavg()
    window = str(bench.seconds(8))
    walls = {}
    with upstream(bench, "slow", "--delay-ms", "200") as base:
        for samples in (1, 5):
            consistency = {"enabled": samples > 1, **({"samples": samples} if samples > 1 else {})}
            config = {**LAYERS_OFF, "consistency": consistency}
            with guard_serve(bench, f"samples{samples}", base, config) as (url, _):
                result = run_load("max", url, "--concurrency", "1", "--duration", window, "--warmup", "1",
                                  "--model", GUARD_MODEL, "--guard-ms")
                walls[samples] = _measured(result)["p50_ms"]
                consistency_status = result["layers"].get("consistency")
                consistency_ms = result["layer_p50_ms"].get("consistency")
    sampling_only = (walls[5] - (consistency_ms or 0.0)) / walls[1]  # drawing the samples, without scoring them
    return {"samples5_vs_1": round(walls[5] / walls[1], 3), "samples5_vs_1_sampling_only": round(sampling_only, 3),
            "samples1_p50_ms": walls[1],
            "samples5_p50_ms": walls[5], "upstream_delay_ms": 200, "consistency_layer": consistency_status,
            "consistency_layer_p50_ms": consistency_ms,
            "load": _span(load)}


def guard_compute(bench: Bench) -> dict[str, Any]:
    """Figure 4 and the memory figures: grounding, citations and support on, answers never seen before.

    guard's own time per answer is what the answer's ``guard.usage.latency_ms.guard``
    says (total minus model time). Memory: the worker's RSS once warm and idle,
    and its peak while three clients keep it busy.
    """
    count = 400
    folder = bench.work / "compute"
    folder.mkdir(exist_ok=True)
    bodies, answers = corpus.build(count, GUARD_MODEL)
    (folder / "bodies.json").write_text(json.dumps(bodies))
    (folder / "answers.json").write_text(json.dumps(answers))
    config = {"knowledge_base": {"path": str(folder / "kb"), "chunk_size": 600, "chunk_overlap": 80},
              "grounding": {"enabled": True, "top_k": 5, "min_score": 0.0},
              "citations": {"enabled": True}, "support": {"enabled": True}, "consistency": {"enabled": False}}
    _ingest(folder, config)
    with upstream(bench, "answers", "--answers", str(folder / "answers.json")) as base:
        with guard_serve(bench, "compute", base, config) as (url, pid):
            body_args = ("--bodies", str(folder / "bodies.json"), "--guard-ms")
            time.sleep(1)
            idle = rss_mb(pid)
            load = loadavg()
            single = bench.profiled_load("guard-compute (grounding, citations, support)", pid, "max", url,
                                         "--concurrency", "1", "--duration", str(bench.seconds(40)), "--warmup", "2",
                                         *body_args)
            busy = run_load("max", url, "--concurrency", "3", "--duration", str(bench.seconds(10)), "--warmup", "1",
                            *body_args, watch_pid=pid)
    # A layer that errored (e.g. its model is not trained yet) costs nothing: the figure would flatter guard.
    not_ok = {k: v for k, v in single["layers"].items() if k in ("grounding", "citations", "support") and v != "ok"}
    return {"guard_compute_p50_ms": single["guard"]["p50_ms"], "layers_not_ok": not_ok,
            "layer_p50_ms": single["layer_p50_ms"], "guard_compute_p99_ms": single["guard"]["p99_ms"],
            "guard_compute_n": single["guard"]["n"], "layers": single["layers"],
            # the worker's CPU (all its threads: model, verification, HTTP) per answer, warm-up included
            "server_cpu_ms_per_answer": round(1000 * single["server_cpu_s"] / max(1, single["completed"]), 1),
            "answer_words": round(sum(len(a.split()) for a in answers) / count, 1),
            "rss_idle_mb": idle, "rss_load_mb": max(single["rss_peak_mb"], busy["rss_peak_mb"]),
            "busy_rps": busy["rps"], "non_200": _non_200([single, busy]), "load": _span(load)}


def _ingest(folder: Path, config: dict[str, Any]) -> None:
    """The sample knowledge base, chunked to ~100 words, through ``guard kb add`` (on the client core)."""
    config_file = folder / "kb.yaml"
    config_file.write_text(yaml.safe_dump({"knowledge_base": config["knowledge_base"]}))
    argv = [str(Path(sys.executable).with_name("guard")), "kb", "add", str(corpus.SAMPLE_KB), "--config", str(config_file)]
    subprocess.run(pinned(CLIENT_CORE, argv), cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, **_upstream_env("")})


def _measured(result: dict[str, Any]) -> dict[str, Any]:
    """``result`` when requests completed in its window; an error saying so otherwise."""
    if not result["n"]:
        raise RuntimeError(f"no request completed inside the measured window: {result}")
    return result


def _median(values: Any) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else round((ordered[mid - 1] + ordered[mid]) / 2, 3)


def _non_200(results: list[dict[str, Any]]) -> int:
    """Requests that failed, got another status than 200, or were still open when the load stopped."""
    return sum(n for r in results for status, n in r["statuses"].items() if status != "200") + \
        sum(int(r.get("errors", 0)) + int(r.get("unfinished", 0)) for r in results)


def _span(before: float) -> str:
    return f"{before:.1f}-{loadavg():.1f}"
