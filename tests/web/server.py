"""`upgradeflow serve` as a real subprocess on a free loopback port, over the test's database."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

UPGRADEFLOW = str(Path(sys.executable).parent / "upgradeflow")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """Start, kill -9 and restart gunicorn (`upgradeflow serve`) over `database_url`."""

    def __init__(self, database_url, log_path, workers=2):
        self.database_url = database_url
        self.log_path = log_path
        self.workers = workers
        self.port = free_port()
        self.process = None

    def start(self):
        env = {**os.environ, "DATABASE_URL": self.database_url, "SECRET_KEY": "server-tests"}
        command = [UPGRADEFLOW, "serve", "--workers", str(self.workers), "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            # Its own session: kill() can take the master and its workers down together.
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
        for _ in range(300):  # bounded: up to ~30 s for the workers to boot
            if self.process.poll() is not None:
                raise RuntimeError(f"upgradeflow serve exited: {Path(self.log_path).read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("upgradeflow serve did not answer in 30 s")

    def kill(self):
        """SIGKILL to the master and every worker, in the middle of whatever they do."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None
