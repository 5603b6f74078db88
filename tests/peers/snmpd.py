"""net-snmp snmpd as a real peer: on loopback, or inside a namespace (one namespace = one device).

``SnmpdAgent`` owns its config, persistent dir (so a restart keeps the v3 engineID and bumps engineBoots, as a
real reboot does) and process; ``stop`` is idempotent and kills the process group even when a test failed.
``ManagementLink`` gives the host (where the poller runs) a veth into a namespace, because the lab helper only
links namespaces to namespaces.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.peers.netns import Netns
from tests.peers.process import stop_group

SNMPD = "/usr/sbin/snmpd"
V3_USER = "v3user"
V3_AUTH_KEY = "auth-pass-123"
V3_PRIV_KEY = "priv-pass-456"


def snmpd_available() -> bool:
    return Path(SNMPD).exists()


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class SnmpdAgent:
    address: str
    port: int
    community: str = "public"
    sys_name: str = "agent"
    netns: Netns | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="noc-snmpd-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def conf(self) -> Path:
        return self.workdir / "agent.conf"

    def write_config(self) -> None:
        self.conf.write_text(
            f"agentAddress udp:{self.address}:{self.port}\n"
            f"rocommunity {self.community} default\n"
            f"sysName {self.sys_name}\n"
            "master no\n"
            "dontLogTCPWrappersConnects yes\n"
            f"createUser {V3_USER} SHA-256 {V3_AUTH_KEY} AES {V3_PRIV_KEY}\n"
            f"rouser {V3_USER} priv\n"
        )

    def start(self) -> None:
        if self.process is not None:
            return
        self.write_config()
        # No -C: the persistent file must be read back so that a restart keeps the engineID and bumps engineBoots
        # like a real reboot. SNMPCONFPATH points at an empty dir so /etc/snmp is still never read.
        (self.workdir / "etc").mkdir(exist_ok=True)
        env = {
            **os.environ,
            "MIBS": "",
            "SNMP_PERSISTENT_DIR": str(self.workdir / "persist"),
            "SNMPCONFPATH": f"{self.workdir / 'etc'}:{self.workdir / 'persist'}",
        }
        argv = [SNMPD, "-f", "-Lf", str(self.workdir / "snmpd.log"), "-c", str(self.conf)]
        argv += ["-p", str(self.workdir / "snmpd.pid"), "-I", "-smux"]
        if self.netns is not None:
            argv = self.netns.cmd(*argv)
        self.process = subprocess.Popen(argv, env=env, start_new_session=True)
        self.wait_ready()

    def wait_ready(self, attempts: int = 100) -> None:
        """Until the agent answers a GET (bounded; each attempt is itself a 0.1 s SNMP timeout)."""
        argv = ["snmpget", "-v2c", "-c", self.community, "-t", "0.1", "-r", "0", "-On"]
        argv += [f"{self.address}:{self.port}", "1.3.6.1.2.1.1.3.0"]
        for _ in range(attempts):
            if self.process is not None and self.process.poll() is not None:
                log = (self.workdir / "snmpd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"snmpd exited with {self.process.returncode}: {log}")
            done = subprocess.run(argv, capture_output=True, check=False, env={**os.environ, "MIBS": ""})
            if done.returncode == 0 and b"Timeticks" in done.stdout:
                return
        raise RuntimeError(f"snmpd on {self.address}:{self.port} did not answer")

    def stop(self) -> None:
        proc, self.process = self.process, None
        stop_group(proc)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class ManagementLink:
    """A veth from the host namespace into ``netns``: host end ``host_addr``, namespace end ``ns_addr`` (/30)."""

    netns: Netns
    host_dev: str
    host_addr: str
    ns_addr: str

    def create(self) -> None:
        ns_dev = f"{self.host_dev}n"
        subprocess.run(["ip", "link", "add", self.host_dev, "type", "veth", "peer", "name", ns_dev], check=True)
        subprocess.run(["ip", "link", "set", ns_dev, "netns", self.netns.name], check=True)
        subprocess.run(["ip", "addr", "add", f"{self.host_addr}/30", "dev", self.host_dev], check=True)
        subprocess.run(["ip", "link", "set", self.host_dev, "up"], check=True)
        self.netns.run("ip", "link", "set", ns_dev, "name", "mgmt0")
        self.netns.run("ip", "addr", "add", f"{self.ns_addr}/30", "dev", "mgmt0")
        self.netns.run("ip", "link", "set", "mgmt0", "up")

    def delete(self) -> None:
        # Deleting the namespace removes the pair too; this covers a failure between the two steps.
        subprocess.run(["ip", "link", "del", self.host_dev], capture_output=True, check=False)
