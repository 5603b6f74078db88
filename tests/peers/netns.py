"""Linux network namespaces as test hosts: one namespace = one device, veth pairs = real links.

Only addresses inside namespaces created here are ever used as traffic targets (10.200.0.0/16 by convention).
Everything created is removed by ``Lab.close`` (also on test failure, via the fixtures that own a Lab).
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

_counter = itertools.count()


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Netns:
    name: str

    def cmd(self, *argv: str) -> list[str]:
        """The argv that runs ``argv`` inside this namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.cmd(*argv), check=check, capture_output=True, text=True)

    def popen(self, argv: Sequence[str], **kwargs: object) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.cmd(*argv), **kwargs)  # type: ignore[call-overload,no-any-return]

    def link(self, dev: str, state: str) -> None:
        """``state`` is "up" or "down": a real link state change the agent inside sees."""
        self.run("ip", "link", "set", dev, state)


@dataclass
class Lab:
    """A set of namespaces and links; unique names per process so parallel runs never collide."""

    prefix: str = "noct"
    namespaces: list[Netns] = field(default_factory=list)

    def namespace(self) -> Netns:
        ns = Netns(f"{self.prefix}{os.getpid() % 100000}x{next(_counter)}")
        _ip("netns", "add", ns.name)
        self.namespaces.append(ns)
        ns.run("ip", "link", "set", "lo", "up")
        return ns

    def veth(self, a: Netns, dev_a: str, addr_a: str | None, b: Netns, dev_b: str, addr_b: str | None) -> None:
        """A veth pair between two namespaces; addresses in CIDR form (e.g. 10.200.1.1/30) or None."""
        tmp_a, tmp_b = f"v{next(_counter)}a{os.getpid() % 10000}", f"v{next(_counter)}b{os.getpid() % 10000}"
        _ip("link", "add", tmp_a, "type", "veth", "peer", "name", tmp_b)
        for tmp, ns, dev, addr in ((tmp_a, a, dev_a, addr_a), (tmp_b, b, dev_b, addr_b)):
            _ip("link", "set", tmp, "netns", ns.name)
            ns.run("ip", "link", "set", tmp, "name", dev)
            if addr:
                ns.run("ip", "addr", "add", addr, "dev", dev)
            ns.run("ip", "link", "set", dev, "up")

    def close(self) -> None:
        for ns in reversed(self.namespaces):
            pids = subprocess.run(["ip", "netns", "pids", ns.name], capture_output=True, text=True, check=False)
            for pid in pids.stdout.split():
                subprocess.run(["kill", "-9", pid], check=False)
            subprocess.run(["ip", "netns", "del", ns.name], capture_output=True, check=False)
        self.namespaces.clear()


def namespaces_available() -> bool:
    """True when this process may create namespaces (root with iproute2)."""
    return os.geteuid() == 0 and subprocess.run(["which", "ip"], capture_output=True, check=False).returncode == 0
