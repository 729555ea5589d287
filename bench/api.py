"""1. Task completions per second through the REST API: `upgradeflow serve --workers 2` and
`clients` threads, each completing whole procedures (the happy path) one after another."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from .client import Api, start, walk
from .setup import GROUPS
from .stats import summary

UPGRADEFLOW = str(Path(sys.executable).parent / "upgradeflow")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class served:
    """`upgradeflow serve` over `url` for the duration of a `with` block."""

    def __init__(self, url, workers=2):
        self.url, self.workers, self.port = url, workers, _free_port()

    def __enter__(self):
        env = {**os.environ, "DATABASE_URL": self.url, "SECRET_KEY": "bench"}
        command = [UPGRADEFLOW, "serve", "--workers", str(self.workers), "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("upgradeflow serve did not start")

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def throughput(url, tokens, clients=8, procedures=2, workers=2) -> dict:
    """Each client walks `procedures` instances through the happy path. Returns completions/s and
    the completion latency (p50/p99, ms) as the clients saw it."""
    latencies, statuses = [], []
    lock = threading.Lock()

    def record(task, status, seconds):
        with lock:
            statuses.append(status)
            latencies.append(seconds)

    with served(url, workers) as server:

        def client():
            callers = {g: Api(server.port, tokens[g]) for g in GROUPS}
            for _ in range(procedures):
                walk(callers, start(callers["business"]), record=record)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=1800)
        elapsed = time.perf_counter() - began
    ok = sum(200 <= s < 300 for s in statuses)
    return {
        "clients": clients,
        "workers": workers,
        "completions": ok,
        "failed": len(statuses) - ok,
        "per_second": round(ok / elapsed, 1),
        "latency": summary(latencies),
    }


def single(url, tokens, samples=20, workers=2) -> dict:
    """The latency of one completion with nothing else running (one client, `workers` worker
    processes), after a few completions that let each worker load the definitions (not counted).

    With two workers, a request lands on either: one whose cached copy of the instance is older
    than the last step (the other worker made it) restores the instance from its state first. With
    one worker the copy is always current: the step's own cost, with HTTP around it."""
    latencies = []
    with served(url, workers) as server:
        callers = {g: Api(server.port, tokens[g]) for g in GROUPS}
        walk(callers, start(callers["business"]), steps=6)  # warm-up: each worker loads the definitions
        while len(latencies) < samples:
            before = len(latencies)
            walk(
                callers,
                start(callers["business"]),
                steps=samples - len(latencies),
                record=lambda t, s, sec: latencies.append(sec),
            )
            if len(latencies) == before:
                break
    return summary(latencies[:samples])
