"""The async collector over fake sessions: states, transitions, deadlines, the concurrency cap, cancellation."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from collectors.errors import CredentialsRejected
from collectors.model import DeviceTarget, ProbeTarget, SshCredentials
from collectors.ssh import SshCollector, SshCollectorSettings, TransitionTracker
from collectors.ssh.errors import ConnectionRefused
from collectors.ssh.session import AbortHandle, CliSession, SessionOptions

IOS_OK = "Success rate is 100 percent (5/5), round-trip min/avg/max = 1/2/3 ms"
CREDS = SshCredentials("noc", password="s3cret-pw")


def device(name: str, platform: str = "cisco_ios") -> DeviceTarget:
    return DeviceTarget(name=name, address="127.0.0.1", platform=platform, ssh=CREDS)


def circuit(name: str, dev: str, target: str = "192.0.2.1", vrf: str | None = None) -> ProbeTarget:
    return ProbeTarget(name, dev, target, "ssh", vrf=vrf)


@dataclass
class FakeSession:
    outputs: Callable[[str], str]
    handle: AbortHandle
    stall: bool = False
    closed: bool = False

    def send_command(self, command: str, read_timeout_s: float) -> str:
        if self.stall:
            unblocked = threading.Event()
            self.handle.register(unblocked.set)
            if not unblocked.wait(timeout=30):  # bounded even if the abort never comes
                raise AssertionError("never aborted")
            from collectors.ssh.errors import SessionTimeout

            raise SessionTimeout("aborted")
        return self.outputs(command)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.handle.abort()


@dataclass
class FakeNetwork:
    """Opener for fakes; counts live sessions (max must never pass the cap) and opens per device."""

    behaviour: dict[str, str] = field(default_factory=dict)  # device → "ok" | "auth" | "refused" | "stall"
    live: int = 0
    max_live: int = 0
    opened: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event | None = None

    def open(self, dev: DeviceTarget, options: SessionOptions, handle: AbortHandle) -> CliSession:
        with self.lock:
            self.live += 1
            self.max_live = max(self.max_live, self.live)
            self.opened[dev.name] = self.opened.get(dev.name, 0) + 1
        try:
            if self.release is not None:  # hold every session until the test has seen the cap reached
                assert self.release.wait(timeout=10)
            mode = self.behaviour.get(dev.name, "ok")
            if mode == "auth":
                raise CredentialsRejected(f"{dev.name}: authentication failed")
            if mode == "refused":
                raise ConnectionRefused(f"{dev.name}: connection refused")
        except BaseException:
            with self.lock:
                self.live -= 1
            raise
        net = self

        class Counted(FakeSession):
            def close(self) -> None:
                super().close()
                with net.lock:
                    net.live -= 1

        def outputs(cmd: str) -> str:
            return "% Invalid input detected at '^' marker." if " vrf NOPE " in cmd else IOS_OK

        return Counted(outputs, handle, stall=mode == "stall")


async def test_one_session_serves_all_circuits_and_a_rejected_circuit_does_not_spoil_others() -> None:
    net = FakeNetwork()
    async with SshCollector(SshCollectorSettings(max_sessions=2), opener=net.open) as ssh:
        [res] = await ssh.probe_cycle(
            [(device("pe1"), [circuit("C1", "pe1"), circuit("C2", "pe1", vrf="NOPE"), circuit("C3", "pe1")])]
        )
    assert net.opened == {"pe1": 1}
    assert res.state == "ok"
    c1, c2, c3 = res.samples
    assert (c1.sent, c1.received, c1.rtt_avg_ms, c1.error) == (5, 5, 2.0, None)
    assert c2.error is not None
    assert c2.error.startswith("command_rejected:")
    assert c2.loss_ratio is None
    assert c3.error is None


async def test_failures_are_states_and_the_cycle_completes() -> None:
    net = FakeNetwork({"bad": "auth", "closed": "refused", "hung": "stall"})
    settings = SshCollectorSettings(max_sessions=4, session_timeout_s=0.5)
    devices = ["good", "bad", "closed", "hung"]
    async with SshCollector(settings, opener=net.open) as ssh:
        results = await asyncio.wait_for(
            ssh.probe_cycle([(device(d), [circuit(f"C-{d}", d)]) for d in devices]), timeout=10
        )
    states = {r.device: (r.state, r.samples[0].error is None) for r in results}
    assert states == {
        "good": ("ok", True),
        "bad": ("auth_failed", False),
        "closed": ("refused", False),
        "hung": ("timeout", False),
    }
    hung = next(r for r in results if r.device == "hung")
    assert hung.duration_s < 5  # ended by the 0.5 s deadline, not the fake's 30 s bound
    assert net.live == 0  # the aborted worker really finished and gave its permit back


async def test_concurrency_never_exceeds_the_cap() -> None:
    net = FakeNetwork(release=threading.Event())
    async with SshCollector(SshCollectorSettings(max_sessions=5), opener=net.open) as ssh:
        task = asyncio.create_task(ssh.probe_cycle([(device(f"d{i}"), [circuit(f"C{i}", f"d{i}")]) for i in range(50)]))
        for _ in range(500):  # wait (bounded) until the cap is reached, then let everyone go
            if net.live == 5:
                break
            await asyncio.sleep(0.01)
        net.release.set()  # type: ignore[union-attr]
        results = await asyncio.wait_for(task, timeout=30)
    assert len(results) == 50
    assert all(r.state == "ok" for r in results)
    assert net.max_live == 5


async def test_transitions_are_logged_once_and_recovery_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    net = FakeNetwork({"pe1": "auth"})
    caplog.set_level(logging.INFO, logger="collectors.ssh")
    async with SshCollector(SshCollectorSettings(), opener=net.open) as ssh:
        for _ in range(3):
            await ssh.probe_cycle([(device("pe1"), [circuit("C1", "pe1"), circuit("C2", "pe1")])])
        net.behaviour["pe1"] = "ok"
        for _ in range(2):
            await ssh.probe_cycle([(device("pe1"), [circuit("C1", "pe1"), circuit("C2", "pe1")])])
    messages = [r.getMessage() for r in caplog.records]
    assert sum("device pe1: auth_failed" in m for m in messages) == 1
    assert sum("device pe1 recovered" in m for m in messages) == 1
    assert not any("circuit C1: auth_failed" in m for m in messages)  # the device line already said why
    assert all("s3cret-pw" not in m for m in messages)


def test_tracker_is_pure_and_reports_only_changes() -> None:
    t = TransitionTracker()
    assert t.observe("d", "ok") is None
    tr = t.observe("d", "timeout", "x")
    assert tr is not None
    assert tr.is_failure
    assert tr.previous == "ok"
    assert t.observe("d", "timeout", "y") is None
    back = t.observe("d", "ok")
    assert back is not None
    assert back.is_recovery


async def test_unsupported_platform_and_missing_target_are_states() -> None:
    async with SshCollector(SshCollectorSettings(), opener=FakeNetwork().open) as ssh:
        [res] = await ssh.probe_cycle([(device("x", platform="cisco_nxos"), [circuit("C1", "x")])])
        [res2] = await ssh.probe_cycle([(device("y"), [circuit("C2", "y", target="far-end.example")])])
    assert res.state == "unsupported_platform"
    assert res.samples[0].error is not None
    assert res2.state == "ok"
    assert res2.samples[0].error is not None
    assert res2.samples[0].error.startswith("command_rejected")


async def test_cancellation_propagates_and_releases_the_worker() -> None:
    net = FakeNetwork({"hung": "stall"})
    async with SshCollector(SshCollectorSettings(max_sessions=1, session_timeout_s=30), opener=net.open) as ssh:
        task = asyncio.create_task(ssh.probe_device(device("hung"), [circuit("C1", "hung")]))
        for _ in range(500):
            if net.live == 1:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The permit comes back once the aborted worker exits, so the next device still runs.
        res = await asyncio.wait_for(ssh.probe_device(device("next"), [circuit("C2", "next")]), timeout=10)
    assert res.state == "ok"


async def test_a_device_without_ssh_probes_is_not_logged_into() -> None:
    net = FakeNetwork()
    async with SshCollector(SshCollectorSettings(), opener=net.open) as ssh:
        [res] = await ssh.probe_cycle([(device("pe1"), [ProbeTarget("C1", "pe1", "192.0.2.1", "icmp")])])
    assert (res.state, res.samples, net.opened) == ("ok", (), {})
