"""Acceptance against a real OpenSSH sshd in a namespace (a Linux PE) pinging a real far end.

Loss band: with nftables dropping each echo request independently with p = 0.2 (``numgen random mod 10 < 2``),
the loss of n = 200 probes is Binomial(200, 0.2)/200: mean 0.2, standard deviation sqrt(0.2·0.8/200) ≈ 0.028.
The band 0.10-0.30 is ±3.5 standard deviations, so a correct collector fails it about once in 2,000 runs
(two-sided normal tail 4.6e-4), while a collector that ignores loss (0) or counts every probe lost (1) always does.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

import pytest

from collectors.model import DeviceTarget, ProbeTarget
from collectors.ssh import PingOptions, SshCollector, SshCollectorSettings
from collectors.ssh.session import AbortHandle, CliSession, SessionOptions, open_netmiko_session
from tests.collectors.ssh.conftest import pe_target
from tests.peers.sshd import SshdPE, keygen

pytestmark = pytest.mark.peers

FAST_BURST = PingOptions(count=200, size_bytes=100, timeout_s=1, interval_s=0.01)  # -i 0.01: root on the PE


async def test_loss_band_with_nftables_drop_and_a_clean_control_in_one_session(sshd_pe: SshdPE) -> None:
    sshd_pe.set_loss(2)
    try:
        lossy = ProbeTarget("C-lossy", "pe-linux", sshd_pe.far_address, "ssh")
        clean = ProbeTarget("C-clean", "pe-linux", sshd_pe.far_address_clean, "ssh")
        async with SshCollector(SshCollectorSettings(max_sessions=2, connect_timeout_s=5)) as ssh:
            [res] = await ssh.probe_cycle([(pe_target(sshd_pe), [lossy, clean])], FAST_BURST)
    finally:
        sshd_pe.set_loss(0)
    assert res.state == "ok", res.reason
    s_lossy, s_clean = res.samples
    assert s_lossy.error is None
    assert s_lossy.sent == 200
    assert s_lossy.loss_ratio is not None
    assert 0.10 <= s_lossy.loss_ratio <= 0.30
    assert s_lossy.rtt_avg_ms is not None
    # The control circuit, same session, no drop rule: no loss, RTT and jitter (iputils mdev) present.
    assert (s_clean.sent, s_clean.received, s_clean.loss_ratio) == (200, 200, 0.0)
    assert s_clean.rtt_min_ms is not None
    assert s_clean.rtt_avg_ms is not None
    assert s_clean.rtt_max_ms is not None
    assert s_clean.jitter_ms is not None
    assert s_clean.rtt_min_ms <= s_clean.rtt_avg_ms <= s_clean.rtt_max_ms


async def test_no_drop_means_no_loss(sshd_pe: SshdPE) -> None:
    probe = ProbeTarget("C-1", "pe-linux", sshd_pe.far_address, "ssh")
    async with SshCollector(SshCollectorSettings(connect_timeout_s=5)) as ssh:
        res = await ssh.probe_device(pe_target(sshd_pe), [probe], FAST_BURST)
    [s] = res.samples
    assert (res.state, s.error, s.sent, s.received, s.loss_ratio) == ("ok", None, 200, 200, 0.0)
    assert s.rtt_avg_ms is not None
    assert s.rtt_avg_ms > 0


async def test_linux_cli_counters_are_interface_samples_with_real_ifindex(sshd_pe: SshdPE) -> None:
    assert sshd_pe.pe is not None
    links = sshd_pe.pe.run("ip", "-o", "link", "show", "core0").stdout
    core_ifindex = int(links.split(":", 1)[0])
    async with SshCollector(SshCollectorSettings(connect_timeout_s=5)) as ssh:
        res = await ssh.collect_counters(pe_target(sshd_pe))
    assert res.state == "ok", res.reason
    by_name = {s.if_name: s for s in res.samples}
    assert {"lo", "mgmt0", "core0"} <= by_name.keys()
    core = by_name["core0"]
    assert (core.device, core.if_index, core.oper_status, core.counter_bits) == ("pe-linux", core_ifindex, "up", 64)
    assert core.in_octets is not None
    assert core.in_octets > 0  # echo replies from the far end
    assert by_name["mgmt0"].in_octets is not None
    assert by_name["mgmt0"].in_octets > 0  # our own SSH session


async def test_host_key_pinning(sshd_pe: SshdPE, tmp_path: Path) -> None:
    good, changed, empty = tmp_path / "good", tmp_path / "changed", tmp_path / "empty"
    good.write_text(sshd_pe.host_key_line)
    keygen(tmp_path / "other")
    other = (tmp_path / "other.pub").read_text().split()
    changed.write_text(f"[{sshd_pe.address}]:{sshd_pe.port} {other[0]} {other[1]}\n")
    empty.write_text("")
    probe = ProbeTarget("C-1", "pe-linux", sshd_pe.far_address_clean, "ssh")
    opts = PingOptions(count=2, interval_s=0.01, timeout_s=1)
    states = {}
    for name, path in (("good", good), ("changed", changed), ("empty", empty)):
        settings = SshCollectorSettings(connect_timeout_s=5, known_hosts_path=str(path), strict_host_keys=True)
        async with SshCollector(settings) as ssh:
            res = await ssh.probe_device(pe_target(sshd_pe), [probe], opts)
        states[name] = res.state
    assert states == {"good": "ok", "changed": "host_key_changed", "empty": "host_key_unknown"}


async def test_wrong_key_is_auth_failed(sshd_pe: SshdPE, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    stranger = keygen(tmp_path / "stranger")
    probe = ProbeTarget("C-1", "pe-linux", sshd_pe.far_address_clean, "ssh")
    async with SshCollector(SshCollectorSettings(connect_timeout_s=5)) as ssh:
        res = await ssh.probe_device(pe_target(sshd_pe, key_text=stranger), [probe])
    assert res.state == "auth_failed"
    [s] = res.samples
    assert s.error is not None
    assert s.error.startswith("auth_failed:")
    assert s.loss_ratio is None  # a failed login is not packet loss
    assert "PRIVATE KEY" not in s.error
    # Neither the rejected key nor the good one (used by other tests in this session) shows in any log record.
    for key_text in (stranger, sshd_pe.client_key_text):
        body = max(key_text.splitlines(), key=len)
        assert body not in caplog.text
    assert "auth_failed" in caplog.text  # the transition was logged


async def test_device_that_hangs_mid_command_ends_at_its_deadline_while_others_complete(sshd_pe: SshdPE) -> None:
    """A burst that outlives the device deadline (100 echoes 1 s apart vs a 4 s budget) is a timeout state."""
    slow = PingOptions(count=100, interval_s=1, timeout_s=1)
    hung_probe = ProbeTarget("C-hung", "pe-hung", sshd_pe.far_address_clean, "ssh")
    settings = SshCollectorSettings(max_sessions=4, connect_timeout_s=5, session_timeout_s=4)
    async with SshCollector(settings) as ssh:
        hung = asyncio.create_task(ssh.probe_device(pe_target(sshd_pe, "pe-hung"), [hung_probe], slow))
        ok_probe = ProbeTarget("C-ok", "pe-ok", sshd_pe.far_address_clean, "ssh")
        ok = await ssh.probe_device(pe_target(sshd_pe, "pe-ok"), [ok_probe], PingOptions(count=3, interval_s=0.01))
        hung_res = await asyncio.wait_for(hung, timeout=20)
    assert ok.state == "ok"
    assert hung_res.state == "timeout"
    assert hung_res.samples[0].error is not None
    assert hung_res.duration_s < 4 + 2  # the budget, plus scheduling slack; far from the burst's 100 s


async def test_fifty_targets_never_exceed_the_session_cap(sshd_pe: SshdPE) -> None:
    cap = 6
    lock = threading.Lock()
    live = peak = opened = 0

    class Counted:
        def __init__(self, inner: CliSession) -> None:
            self.inner = inner

        def send_command(self, command: str, read_timeout_s: float) -> str:
            return self.inner.send_command(command, read_timeout_s)

        def abort(self) -> None:
            self.inner.abort()

        def close(self) -> None:
            nonlocal live
            try:
                self.inner.close()
            finally:
                with lock:
                    live -= 1

    def counting_opener(device: DeviceTarget, options: SessionOptions, handle: AbortHandle) -> CliSession:
        nonlocal live, peak, opened
        with lock:
            live += 1
            opened += 1
            peak = max(peak, live)
        try:
            return Counted(open_netmiko_session(device, options, handle))
        except BaseException:
            with lock:
                live -= 1
            raise

    plan = [
        (pe_target(sshd_pe, f"pe{i:02d}"), [ProbeTarget(f"C{i:02d}", f"pe{i:02d}", sshd_pe.far_address_clean, "ssh")])
        for i in range(50)
    ]
    started = time.monotonic()
    async with SshCollector(
        SshCollectorSettings(max_sessions=cap, connect_timeout_s=10), opener=counting_opener
    ) as ssh:
        results = await ssh.probe_cycle(plan, PingOptions(count=2, interval_s=0.01, timeout_s=1))
    elapsed = time.monotonic() - started
    print(f"\n50 SSH sessions (cap {cap}) in {elapsed:.1f} s = {50 / elapsed:.1f} sessions/s")
    assert [r.state for r in results] == ["ok"] * 50, [r.reason for r in results if r.state != "ok"]
    assert opened == 50
    assert live == 0
    assert peak == cap
