"""SSH collection: device-side ping per circuit and CLI interface counters, on netmiko in worker threads.

Layers (I/O only at the edge):

* :mod:`~collectors.ssh.platforms` — per-platform command templates as data (cisco_ios, cisco_xe, huawei_vrp,
  juniper_junos, linux): count, size, timeout, interval, VRF, source interface.
* :mod:`~collectors.ssh.ping_parsers` — pure ping-output parsers → :class:`PingResult`.
* :mod:`~collectors.ssh.cli_counters` — pure ``show interfaces`` / ``display interface`` / ``/proc/net/dev``
  parsers → :class:`~collectors.model.InterfaceSample`, the same samples the SNMP collector yields.
* :mod:`~collectors.ssh.session` — the blocking netmiko session, library errors wrapped into collectors errors.
* :mod:`~collectors.ssh.collector` — :class:`SshCollector`: the async API, concurrency cap, deadlines, states.

API for the assembly::

    settings = SshCollectorSettings(max_sessions=8, connect_timeout_s=10, session_timeout_s=None,
                                    ping=PingOptions(count=5, size_bytes=100, timeout_s=2, interval_s=0.2),
                                    known_hosts_path=None, strict_host_keys=False)
    async with SshCollector(settings) as ssh:
        # one session per device per cycle serves all its circuits; devices run concurrently, capped
        results: list[DeviceProbeResult] = await ssh.probe_cycle([(device_target, [probe_target, ...]), ...])
        for r in results:          # r.state: "ok" | "auth_failed" | "timeout" | "refused" | ... ; r.reason
            for s in r.samples:    # ProbeSample per circuit; s.error = "<state>: <reason>" when it failed
                ...
        counters: DeviceCountersResult = await ssh.collect_counters(device_target)   # .samples: InterfaceSample
        many: list[DeviceCountersResult] = await ssh.counters_cycle([device_target, ...])

Keep one :class:`SshCollector` for the poller's life: it owns the thread pool and remembers states so each
transition (device down, recovered; a circuit's command rejected) is logged once. Nothing is raised for a device
problem; ``CancelledError`` propagates. ``SshCredentials.private_key`` is the key *text*; secrets are never logged.
"""

from collectors.ssh.cli_counters import (
    parse_ios_show_interfaces,
    parse_ip_link,
    parse_proc_net_dev,
    parse_vrp_display_interface,
)
from collectors.ssh.collector import (
    DeviceCountersResult,
    DeviceProbeResult,
    SshCollector,
    SshCollectorSettings,
    interpret_ping,
    parse_counters,
)
from collectors.ssh.ping_parsers import PingResult, parse_ping
from collectors.ssh.platforms import PLATFORMS, PingOptions, Platform, platform_for, render_ping
from collectors.ssh.states import ProbeState, Transition, TransitionTracker, state_of

__all__ = [
    "PLATFORMS",
    "DeviceCountersResult",
    "DeviceProbeResult",
    "PingOptions",
    "PingResult",
    "Platform",
    "ProbeState",
    "SshCollector",
    "SshCollectorSettings",
    "Transition",
    "TransitionTracker",
    "interpret_ping",
    "parse_counters",
    "parse_ios_show_interfaces",
    "parse_ip_link",
    "parse_ping",
    "parse_proc_net_dev",
    "parse_vrp_display_interface",
    "platform_for",
    "render_ping",
    "state_of",
]
