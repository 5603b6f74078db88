"""snmpsim as a real peer on loopback: one process serves many simulated devices, community = data file name.

Recordings are copied into the data directory sorted by numeric OID and de-duplicated (snmpsim expects sorted
unique records; one shared recording holds its records twice). Hostile files written by tests go in unchanged
when ``raw=True``, so that an unsorted file makes snmpsim answer with non-increasing OIDs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.peers.process import stop_group
from tests.peers.snmpd import free_udp_port

RESPONDER = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "snmpsim-command-responder"


def _oid_key(line: str) -> tuple[int, ...]:
    return tuple(int(part) for part in line.split("|", 1)[0].split("."))


def normalised_snmprec(text: str) -> str:
    first: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip():
            first.setdefault(line.split("|", 1)[0], line)
    return "\n".join(sorted(first.values(), key=_oid_key)) + "\n"


@dataclass
class SnmpsimAgent:
    address: str = "127.0.0.1"
    port: int = field(default_factory=free_udp_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="noc-snmpsim-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    def add(self, community: str, snmprec: str, *, raw: bool = False) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        text = snmprec if raw else normalised_snmprec(snmprec)
        (self.data_dir / f"{community}.snmprec").write_text(text, encoding="latin-1")

    def start(self, ready_community: str) -> None:
        (self.workdir / "cache").mkdir(parents=True, exist_ok=True)
        argv = [
            str(RESPONDER),
            f"--data-dir={self.data_dir}",
            f"--cache-dir={self.workdir / 'cache'}",
            f"--agent-udpv4-endpoint={self.address}:{self.port}",
            "--log-level=error",
            f"--logging-method=file:{self.workdir / 'snmpsim.log'}",
        ]
        env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
        self.process = subprocess.Popen(argv, env=env, start_new_session=True, cwd=self.workdir)
        self.wait_ready(ready_community)

    def wait_ready(self, community: str, attempts: int = 150) -> None:
        # snmpsim indexes every data file before answering; each attempt is a 0.1 s SNMP timeout (bounded).
        argv = ["snmpget", "-v2c", "-c", community, "-t", "0.1", "-r", "0", "-On"]
        argv += [f"{self.address}:{self.port}", "1.3.6.1.2.1.1.3.0"]
        for _ in range(attempts):
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"snmpsim exited with {self.process.returncode}")
            done = subprocess.run(argv, capture_output=True, check=False, env={**os.environ, "MIBS": ""})
            if done.returncode == 0:
                return
        raise RuntimeError(f"snmpsim on {self.address}:{self.port} did not answer")

    def stop(self) -> None:
        proc, self.process = self.process, None
        stop_group(proc)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
