"""How guard's numeric work shares the cores: one model forward at a time; BLAS on one thread.

A torch forward spreads over its intra-op threads and waits for all of them at every layer's
barrier (a MiniLM pass has about a hundred), spinning while it waits. guard runs its own work beside a
forward (the contradiction check beside the support model; other requests' retrieval, features and
HTTP; the record writer), so a torch forward that took every core would have a thread wait for a core at
each barrier, and two forwards at once would bring two teams of threads to the same cores. On this
project's 2-core machine, with another process busy, a first-sight check took 4.3 s with two
threads and 0.73 s with one (``benchmarks/verify_speed.py``). So every forward runs inside
``model_forward()``, one at a time, and a torch forward on every core the process may use but one (at
least one). The count is set in the calling thread each time: torch applies a thread count per thread,
from the first parallel work that thread did.

ONNX Runtime, which runs the packaged models, is told not to spin (``guard.onnx_encoder``): its threads
sleep at a barrier, so a forward may take every core. Measured with ``verify_speed.py`` (int8, 2 cores,
2026-12-07): idle, p50 188 ms on two threads against 271 ms on one; with another process keeping a core
busy, 299 against 279 ms; three callers at once, 4.6 checks/s against 3.7 (forwards run one at a time, so
on one thread the second core mostly waits). ``OMP_NUM_THREADS`` sets either count.

guard's own matrix products are small (a claim's few token vectors against a few hundred source
token vectors). Split over two BLAS threads such a product ends no sooner, while the waiting
thread busy-spins (measured: 3.3 ms of CPU per product on two threads, 0.9 ms on one, the same
wall time), so BLAS gets one thread. Results do not change: a thread count splits the output
matrix, not the sums.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Any, TypeVar

T = TypeVar("T")

_MODEL_LOCK = threading.Lock()
_executor_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
MODEL_WORKERS = 2  # one thread in a forward, one preparing the next (features, tokenizing): forwards are serialised


def model_executor() -> ThreadPoolExecutor:
    """The threads model work runs on (embeddings, verifiers), apart from asyncio's default executor: store calls,
    ``/readyz`` and file reads never queue behind a batch of verifications."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(MODEL_WORKERS, thread_name_prefix="guard-model")
        return _executor


async def run_model(fn: Callable[..., T], /, *args: Any) -> T:
    """``fn(*args)`` on the model executor, awaited from the event loop."""
    return await asyncio.get_running_loop().run_in_executor(model_executor(), partial(fn, *args))


def model_threads() -> int:
    """Intra-op threads of a torch forward: ``OMP_NUM_THREADS`` when set, else the usable cores but one."""
    return _threads(spare=1)


def onnx_threads() -> int:
    """Intra-op threads of an ONNX Runtime forward, which never spins: ``OMP_NUM_THREADS`` when set, else every
    usable core."""
    return _threads(spare=0)


@lru_cache(maxsize=2)
def _threads(spare: int) -> int:
    if os.environ.get("OMP_NUM_THREADS", "").isdigit():
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores - spare)


@contextmanager
def model_forward(torch_threads: bool = True) -> Iterator[None]:
    """Around every model forward: alone in the process, on ``model_threads()`` threads.

    ``torch_threads=False`` for a runtime that fixes its thread count itself (ONNX Runtime, per session).
    The host's torch thread count is restored afterwards: guard sets it only for its own forwards.
    """
    with _MODEL_LOCK:
        if not torch_threads:
            yield
            return
        import torch

        host_threads = torch.get_num_threads()
        torch.set_num_threads(model_threads())
        try:
            yield
        finally:
            torch.set_num_threads(host_threads)  # the host's own torch work keeps the count it chose


@lru_cache(maxsize=1)
def single_threaded_blas() -> None:
    """Limit every loaded BLAS (numpy's, faiss's) to one thread, process-wide; later calls do nothing.

    Process-wide, so only what owns the process calls it (``guard serve``, benchmarks), never the library.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
