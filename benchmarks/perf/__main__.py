"""``make bench``: every figure of issue 12 in one run, one table, ``benchmarks/results/latest.json``.

Server under test on core 0, fake upstream and load generator on core 1.
Each figure carries the machine's 1-minute load average while it ran
(``before-after``): on this shared 2-core machine a figure measured at a high
load is pessimistic, and the ratios (measured side by side) are the robust part.

    python -m benchmarks.perf [--quick] [--only passthrough,stream,rps,litellm,consistency,compute]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.perf import figures
from benchmarks.perf.procs import loadavg

RESULTS = Path(__file__).resolve().parent.parent / "results"
# Measured once (benchmarks/README.md, "Dense index"): HNSW defaults, efS=128, 1M chunks. Not rerun: it takes 25 min.
KB_1M_P50_MS = 0.89
KB_1M_EXACT_P50_MS = "188-630"
STEPS = ("client", "passthrough", "stream", "rps", "rps_no_records", "litellm", "consistency", "compute")


def run(bench: figures.Bench, steps: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                       "load_at_start": loadavg()},
                           "quick": bench.quick, "errors": {}}

    def step(name: str, fn: Callable[[], dict[str, Any]]) -> None:
        if name not in steps and name != "passthrough-server":
            return
        t0 = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        try:
            out[name] = fn()
        except Exception as exc:  # noqa: BLE001 - one failed figure must not cost the others
            out["errors"][name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        print(f"[bench] {name} done in {time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)

    with figures.upstream(bench, "main", "--chunks", "20", "--gap-ms", "10") as base:
        step("client", lambda: figures.client_cost(bench, base))
        if steps & {"passthrough", "stream", "rps"}:
            step("passthrough-server", lambda: passthrough_figures(bench, base, step))
        step("rps_no_records", lambda: figures.rps_without_records(bench, base))
        step("litellm", lambda: figures.litellm_rps(bench, base))
    step("consistency", lambda: figures.self_consistency(bench))
    step("compute", lambda: figures.guard_compute(bench))
    out["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return out


def passthrough_figures(bench: figures.Bench, base: str,
                        step: Callable[[str, Callable[[], dict[str, Any]]], None]) -> dict[str, Any]:
    """Figures 1-3 on one pass-through ``guard serve``; its idle RSS is the step's own result."""
    with figures.guard_serve(bench, "passthrough", base, figures.LAYERS_OFF) as (url, pid):
        idle = figures.rss_mb(pid)
        step("passthrough", lambda: figures.passthrough_latency(bench, base, url))
        step("stream", lambda: figures.streaming(bench, base, url))
        step("rps", lambda: figures.max_rps(bench, url, figures.GUARD_MODEL, pid, "guard pass-through"))
    return {"rss_idle_mb": idle}


def flatten(out: dict[str, Any]) -> dict[str, Any]:
    """The issue's headline keys at the top level of latest.json; details stay under each step."""
    p, r, lt = out.get("passthrough", {}), out.get("rps", {}), out.get("litellm", {})
    c, sc = out.get("compute", {}), out.get("consistency", {})
    rps_g, rps_l = r.get("rps"), lt.get("rps")
    return {
        "passthrough_p50_ms": p.get("passthrough_p50_ms"), "passthrough_p99_ms": p.get("passthrough_p99_ms"),
        "rps_guard": rps_g, "rps_litellm": rps_l,
        "rps_ratio": round(rps_g / rps_l, 2) if rps_g and rps_l else None,
        "cpu_ms_per_request_guard": r.get("cpu_ms_per_request"),
        "cpu_ms_per_request_litellm": lt.get("cpu_ms_per_request"),
        "cpu_ratio_litellm_over_guard": round(lt["cpu_ms_per_request"] / r["cpu_ms_per_request"], 2)
        if r.get("cpu_ms_per_request") and lt.get("cpu_ms_per_request") else None,
        "stream_ttft_added_ms": out.get("stream", {}).get("stream_ttft_added_ms"),
        "stream_gap_added_ms": out.get("stream", {}).get("stream_gap_added_ms"),
        "guard_compute_p50_ms": c.get("guard_compute_p50_ms"), "samples5_vs_1": sc.get("samples5_vs_1"),
        "model_client_cpu_ms": out.get("client", {}).get("guard_model_client", {}).get("cpu_ms"),
        "rss_idle_mb": c.get("rss_idle_mb"), "rss_load_mb": c.get("rss_load_mb"),
        "rss_passthrough_idle_mb": out.get("passthrough-server", {}).get("rss_idle_mb"),
        "rss_passthrough_load_mb": r.get("rss_peak_mb"), "kb_1m_query_p50_ms": KB_1M_P50_MS,
    }


def table(flat: dict[str, Any], out: dict[str, Any]) -> str:
    """One line per figure: measured, budget or reference, ratio to it, verdict, load while measured."""

    def load(step: str) -> str:
        return str(out.get(step, {}).get("load", "-"))

    cc = out.get("client", {})

    def cpu(name: str) -> Any:
        return cc.get(name, {}).get("cpu_ms")

    sdk = cpu("openai_sdk")
    rows: list[tuple[str, Any, str, float | None, str, str]] = [
        # name, measured, budget text, budget value, comparison, load
        ("0 model call CPU ms: guard's model client", cpu("guard_model_client"), f"ref openai SDK {sdk}", sdk, "ref",
         load("client")),
        ("0 model call CPU ms: bare litellm", cpu("litellm"), f"ref openai SDK {sdk}", sdk, "ref", load("client")),
        ("0 model call CPU ms: raw httpx", cpu("httpx"), f"ref openai SDK {sdk}", sdk, "ref", load("client")),
        ("0 model call CPU ms: raw aiohttp", cpu("aiohttp"), f"ref openai SDK {sdk}", sdk, "ref", load("client")),
        ("1 pass-through added p50 (ms, 100 rps)", flat["passthrough_p50_ms"], "<= 2", 2, "<=", load("passthrough")),
        ("1 pass-through added p99 (ms, 100 rps)", flat["passthrough_p99_ms"], "<= 6", 6, "<=", load("passthrough")),
        ("1 same at 20 rps, p50 (when 100 rps overloads)", out.get("passthrough", {}).get("passthrough_p50_ms_at_20rps"),
         "<= 2", 2, "<=", load("passthrough")),
        ("1 same at 20 rps, p99", out.get("passthrough", {}).get("passthrough_p99_ms_at_20rps"), "<= 6", 6, "<=",
         load("passthrough")),
        ("2 max rps, guard pass-through (1 core)", flat["rps_guard"], ">= 3x litellm",
         3 * flat["rps_litellm"] if flat["rps_litellm"] else None, ">=", load("rps")),
        (f"2 max rps, LiteLLM proxy {out.get('litellm', {}).get('litellm_version', '')} (1 core)", flat["rps_litellm"],
         "ref ~126 (issue)", 126, "ref", load("litellm")),
        ("2 rps ratio guard / LiteLLM", flat["rps_ratio"], ">= 3", 3, ">=", load("rps")),
        ("2 server CPU ms/request, guard", flat["cpu_ms_per_request_guard"], "no budget", None, "", load("rps")),
        ("2 same, request records off (diagnostic)", out.get("rps_no_records", {}).get("cpu_ms_per_request"),
         "no budget", None, "", load("rps_no_records")),
        ("2 server CPU ms/request, LiteLLM", flat["cpu_ms_per_request_litellm"], "no budget", None, "",
         load("litellm")),
        ("2 CPU/request ratio LiteLLM / guard", flat["cpu_ratio_litellm_over_guard"], ">= 3 (load-free)", 3, ">=",
         "cpu time"),
        ("3 stream added TTFT p50 (ms, provisional)", flat["stream_ttft_added_ms"], "no budget", None, "", load("stream")),
        ("3 stream added mean chunk gap (ms)", flat["stream_gap_added_ms"], "no budget", None, "", load("stream")),
        ("4 guard compute p50 (ms, 200 tok, 5 src)", flat["guard_compute_p50_ms"], "<= 60", 60, "<=", load("compute")),
        ("4 guard compute p99 (ms)", out.get("compute", {}).get("guard_compute_p99_ms"), "no budget", None, "",
         load("compute")),
        ("5 wall time 5 samples / 1 sample", flat["samples5_vs_1"], "<= 1.3", 1.3, "<=", load("consistency")),
        ("5 same, less the consistency layer's scoring", out.get("consistency", {}).get("samples5_vs_1_sampling_only"),
         "<= 1.3", 1.3, "<=", load("consistency")),
        ("5 consistency layer p50 at 5 samples (ms)", out.get("consistency", {}).get("consistency_layer_p50_ms"),
         "no budget", None, "", load("consistency")),
        ("6 RSS worker idle, models loaded (MB)", flat["rss_idle_mb"], "no budget", None, "", load("compute")),
        ("6 RSS worker under load, models (MB)", flat["rss_load_mb"], "<= 1536", 1536, "<=", load("compute")),
        ("6 RSS pass-through worker idle/load (MB)",
         f"{flat['rss_passthrough_idle_mb']}/{flat['rss_passthrough_load_mb']}", "no budget", None, "", load("rps")),
        ("6 KB query p50 at 1M chunks (ms, README)", KB_1M_P50_MS, f"ref exact {KB_1M_EXACT_P50_MS}", None, "",
         "not rerun"),
    ]
    lines = [f"{'figure':<46} {'measured':>10}  {'budget/ref':<16} {'ratio':>6}  {'verdict':<7} load"]
    for name, value, budget, limit, how, load_text in rows:
        ratio, verdict = "", ""
        if isinstance(value, (int, float)) and limit:
            ratio = f"{value / limit:.2f}"
            if how == "<=":
                verdict = "PASS" if value <= limit else "MISS"
            elif how == ">=":
                verdict = "PASS" if value >= limit else "MISS"
        shown = "-" if value is None else value
        lines.append(f"{name:<46} {shown!s:>10}  {budget:<16} {ratio:>6}  {verdict:<7} {load_text}")
    if out.get("passthrough", {}).get("overloaded"):
        lines.append(f"  ! figure 1: {out['passthrough']['unfinished']} requests still open when the load stopped: "
                     "guard served under 100 rps at this machine load, so its latency is queueing (see figure 2)")
    layer_ms = out.get("compute", {}).get("layer_p50_ms")
    if layer_ms:
        lines.append("  figure 4 by layer, p50 ms: " + ", ".join(f"{k} {v}" for k, v in layer_ms.items()))
    not_ok = out.get("compute", {}).get("layers_not_ok")
    if not_ok:
        lines = [line.replace("MISS", "INVALID").replace("PASS", "INVALID") if line.startswith("4 guard compute p50")
                 else line for line in lines]
        lines.append(f"  ! compute: layers not ok {not_ok}: figure 4 leaves their cost out (see the serve log)")
    for step, error in out["errors"].items():
        lines.append(f"  ! {step} failed: {error[:200]}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short windows: try the harness, do not quote")
    parser.add_argument("--only", default=",".join(STEPS), help="comma-separated steps")
    parser.add_argument("--profile", action="store_true", help="py-spy the server under the rps and compute loads")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (configs, server logs)")
    args = parser.parse_args()
    steps = set(args.only.split(","))
    work = Path(tempfile.mkdtemp(prefix="guard-bench-"))
    started = time.perf_counter()
    bench = figures.Bench(work, quick=args.quick, profile=args.profile)
    out = run(bench, steps)
    out["wall_s"] = round(time.perf_counter() - started, 1)
    result = {**flatten(out), "details": out}
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / ("quick.json" if args.quick else "latest.json")
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result, out))
    if bench.profiles:
        profile = RESULTS / ("quick-profile.txt" if args.quick else "profile.txt")
        profile.write_text("\n".join(bench.profiles))
        print(f"profiles: {profile}")
    print(f"\nwall {out['wall_s']} s; written {target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}")
    if args.keep or out["errors"]:
        print(f"logs kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
