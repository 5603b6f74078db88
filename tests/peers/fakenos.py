"""FakeNOS (fake Cisco IOS / Huawei VRP / Junos shells) as a peer, in its own Python process.

Its paramiko server threads would compete with the test's own paramiko clients for the GIL, so it runs in a child
process that starts the inventory, prints READY and stops when its stdin closes (also when the test process dies).
Canned command outputs go into the inventory (matching is on the exact command text).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.peers.sshd import wait_tcp

_CHILD = """
import sys, yaml, logging
logging.basicConfig(level=logging.ERROR)
from fakenos import FakeNOS
with open(sys.argv[1]) as f:
    inventory = yaml.safe_load(f)
net = FakeNOS(inventory)
net.start()
print("READY", flush=True)
try:
    sys.stdin.read()  # returns at EOF: the parent closed the pipe or died
finally:
    net.stop()
"""

PROMPTS = ["{base_prompt}>", "{base_prompt}#"]


@dataclass(frozen=True)
class FakeHost:
    name: str
    platform: str  # FakeNOS plugin name: cisco_ios, huawei_vrp, juniper_junos, ...
    port: int
    username: str
    password: str
    commands: Mapping[str, str] = field(default_factory=dict)


@dataclass
class FakeNosPeer:
    hosts: list[FakeHost]
    address: str = "127.0.0.1"
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="noc-fakenos-")))
    process: subprocess.Popen[str] | None = None

    def inventory(self) -> dict[str, Any]:
        hosts: dict[str, Any] = {}
        for h in self.hosts:
            commands = {cmd: {"output": out, "prompt": PROMPTS, "help": "canned"} for cmd, out in h.commands.items()}
            hosts[h.name] = {
                "username": h.username,
                "password": h.password,
                "port": h.port,
                "platform": h.platform,
                "server": {
                    "plugin": "ParamikoSshServer",
                    "configuration": {"address": self.address, "timeout": 1},
                },
                "nos": {"plugin": h.platform, "configuration": {"commands": commands}},
            }
        return {"hosts": hosts}

    def start(self) -> None:
        inv = self.workdir / "inventory.yaml"
        inv.write_text(yaml.safe_dump(self.inventory()))
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(inv)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until READY or the child exits (EOF)
        if line.strip() != "READY":
            self.stop()
            raise RuntimeError(f"FakeNOS did not start: {line!r}")
        for h in self.hosts:
            wait_tcp(self.address, h.port)

    def stop(self) -> None:
        if self.process is None:
            return
        proc, self.process = self.process, None
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
