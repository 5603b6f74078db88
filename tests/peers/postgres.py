"""A private PostgreSQL cluster to stop and start: the machine's shared server is never touched by a fault test.

``PrivateCluster`` runs ``initdb`` in a temporary directory owned by ``postgres`` (trust auth, no fsync: a test
cluster), then ``pg_ctl start/stop`` on a free loopback port. ``stop`` is a fast shutdown (clients are cut off, as
in a real outage); ``start`` brings the same data back.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.peers.ports import free_tcp_port


def _bindir() -> Path | None:
    root = Path("/usr/lib/postgresql")
    if not root.exists():
        return None
    versions = sorted((p for p in root.iterdir() if (p / "bin" / "initdb").exists()), key=lambda p: int(p.name))
    return versions[-1] / "bin" if versions else None


def private_cluster_available() -> bool:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return os.geteuid() == 0 and _bindir() is not None


@dataclass
class PrivateCluster:
    port: int = field(default_factory=free_tcp_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="noc-pg-")))

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.workdir / "data"

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run(["su", "postgres", "-c", " ".join(argv)], check=True, capture_output=True, timeout=120)

    def create(self) -> None:
        bindir = _bindir()
        assert bindir is not None
        shutil.chown(self.workdir, "postgres", "postgres")
        self._as_postgres(str(bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        bindir = _bindir()
        assert bindir is not None
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(bindir / "pg_ctl"), "-D", str(self.data), "-o", f"'{options}'", "-l", str(self.workdir / "log"), "-w",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        bindir = _bindir()
        assert bindir is not None
        self._as_postgres(str(bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def cleanup(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
