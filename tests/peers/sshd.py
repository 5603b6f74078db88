"""OpenSSH sshd as a real Linux "PE": inside its own namespace, with a far end behind a veth, nftables for loss.

Topology (addresses are inside namespaces the lab created, never outside)::

    host (root ns) 10.200.<n>.1/30 ──veth── 10.200.<n>.2 [PE ns: sshd :2222, nft]
                                            [PE ns] 10.200.<n>.9/29 ──veth── 10.200.<n>.10 + .11 [far ns]

Loss rules (``set_loss``) match only ``far_address`` (.10), so a circuit toward ``far_address_clean`` (.11) in
the same session is a control that sees no drop.

The sshd has its own config, host key, authorized_keys and pid file in a temp dir: root logs in with a key made
for the run (``PermitRootLogin prohibit-password``), so no system account or password is created or changed.
``stop`` is idempotent and also runs when a test failed (the fixture owns it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.peers.netns import Lab, Netns

SSHD = "/usr/sbin/sshd"
SSH_PORT = 2222


def sshd_available() -> bool:
    return Path(SSHD).exists() and shutil.which("ssh-keygen") is not None and shutil.which("nft") is not None


def keygen(path: Path) -> str:
    """A fresh ed25519 key pair at ``path``/``path.pub``; returns the private key text."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, capture_output=True)
    return path.read_text()


def wait_tcp(host: str, port: int, attempts: int = 200, timeout_s: float = 0.05) -> None:
    """Until something accepts on host:port (bounded); each attempt waits at most ``timeout_s``."""
    last: OSError | None = None
    for _ in range(attempts):
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return
        except OSError as exc:
            last = exc
            time.sleep(timeout_s)  # back-off between probes of a condition, not a synchronisation sleep
    raise RuntimeError(f"{host}:{port} never accepted a connection: {last}")


@dataclass
class SshdPE:
    """One PE namespace running sshd, reachable from the host, with a far end to ping."""

    lab: Lab
    subnet: int = 20
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="noc-sshd-")))
    pe: Netns | None = None
    far: Netns | None = None
    process: subprocess.Popen[bytes] | None = None
    client_key_text: str = ""
    host_key_line: str = ""

    @property
    def address(self) -> str:
        return f"10.200.{self.subnet}.2"

    @property
    def far_address(self) -> str:
        return f"10.200.{self.subnet}.10"

    @property
    def far_address_clean(self) -> str:
        return f"10.200.{self.subnet}.11"

    @property
    def port(self) -> int:
        return SSH_PORT

    def start(self) -> None:
        self.pe, self.far = self.lab.namespace(), self.lab.namespace()
        self._host_veth()
        self.lab.veth(self.pe, "core0", f"10.200.{self.subnet}.9/29", self.far, "cust0", f"{self.far_address}/29")
        self.far.run("ip", "addr", "add", f"{self.far_address_clean}/29", "dev", "cust0")
        self.client_key_text = keygen(self.workdir / "client")
        keygen(self.workdir / "hostkey")
        pub = (self.workdir / "hostkey.pub").read_text().split()
        self.host_key_line = f"[{self.address}]:{self.port} {pub[0]} {pub[1]}\n"
        shutil.copy(self.workdir / "client.pub", self.workdir / "authorized_keys")
        conf = self.workdir / "sshd_config"
        conf.write_text(
            f"Port {self.port}\n"
            f"ListenAddress {self.address}\n"
            f"HostKey {self.workdir / 'hostkey'}\n"
            f"PidFile {self.workdir / 'sshd.pid'}\n"
            "UsePAM no\n"
            "PermitRootLogin prohibit-password\n"
            f"AuthorizedKeysFile {self.workdir / 'authorized_keys'}\n"
            "StrictModes no\n"  # the temp dir's modes are not what sshd expects of a home directory
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "AllowUsers root\n"
            "MaxStartups 100:30:200\n"
            "LogLevel ERROR\n"
        )
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege-separation dir sshd insists on
        assert self.pe is not None
        self.process = subprocess.Popen(
            self.pe.cmd(SSHD, "-D", "-E", str(self.workdir / "sshd.log"), "-f", str(conf)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_tcp(self.address, self.port)

    def _host_veth(self) -> None:
        assert self.pe is not None
        host_dev = f"nh{os.getpid() % 10000}s{self.subnet}"
        tmp = f"np{os.getpid() % 10000}s{self.subnet}"
        subprocess.run(["ip", "link", "add", host_dev, "type", "veth", "peer", "name", tmp], check=True)
        self._host_dev = host_dev
        subprocess.run(["ip", "link", "set", tmp, "netns", self.pe.name], check=True)
        self.pe.run("ip", "link", "set", tmp, "name", "mgmt0")
        self.pe.run("ip", "addr", "add", f"{self.address}/30", "dev", "mgmt0")
        self.pe.run("ip", "link", "set", "mgmt0", "up")
        subprocess.run(["ip", "addr", "add", f"10.200.{self.subnet}.1/30", "dev", host_dev], check=True)
        subprocess.run(["ip", "link", "set", host_dev, "up"], check=True)

    def set_loss(self, one_in_ten: int) -> None:
        """Drop ``one_in_ten``/10 of the PE's echo requests toward the far end (0 removes the rule)."""
        assert self.pe is not None
        self.pe.run("nft", "delete", "table", "inet", "noctest", check=False)
        if one_in_ten <= 0:
            return
        ruleset = (
            "table inet noctest {\n"
            "  chain out {\n"
            "    type filter hook output priority 0; policy accept;\n"
            f"    ip daddr {self.far_address} icmp type echo-request numgen random mod 10 < {one_in_ten} drop\n"
            "  }\n"
            "}\n"
        )
        subprocess.run(self.pe.cmd("nft", "-f", "-"), input=ruleset, text=True, check=True, capture_output=True)

    def sshd_log(self) -> str:
        path = self.workdir / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(timeout=5)
            self.process = None
        if getattr(self, "_host_dev", None):
            subprocess.run(["ip", "link", "del", self._host_dev], capture_output=True, check=False)
            self._host_dev = ""
        shutil.rmtree(self.workdir, ignore_errors=True)
