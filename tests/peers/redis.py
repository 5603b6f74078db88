"""A private Redis server to kill and restart (the machine's shared one on 6379 is never stopped by a test).

Append-only file on, fsync on every write, as the README advises for the bus: a restart keeps every stream entry
and every consumer group's pending list.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.peers.ports import free_tcp_port
from tests.peers.process import stop_group

REDIS = shutil.which("redis-server")


def redis_available() -> bool:
    return REDIS is not None


@dataclass
class PrivateRedis:
    port: int = field(default_factory=free_tcp_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="noc-redis-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS is not None
        argv = [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"]
        argv += ["--appendfsync", "always", "--dir", str(self.workdir), "--logfile", str(self.workdir / "log")]
        self.process = subprocess.Popen(argv, start_new_session=True)
        self.wait_ready()

    def wait_ready(self, attempts: int = 200) -> None:
        for _ in range(attempts):
            done = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True, check=False
            )
            if done.stdout.strip() == "PONG":
                return
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            time.sleep(0.05)  # a polling pause while an external process starts
        raise RuntimeError(f"redis-server on {self.port} did not answer")

    def stop(self) -> None:
        proc, self.process = self.process, None
        stop_group(proc)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
