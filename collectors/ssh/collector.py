"""The async SSH collector: device-side ping bursts per circuit, and CLI interface counters.

See the package docstring (:mod:`collectors.ssh`) for the API. Design points:

* One session per device per cycle serves all its circuits (bursts run one after another in that session).
* Sessions run in a dedicated thread pool of ``max_sessions`` workers behind a semaphore of the same size. The
  semaphore is acquired before a device's deadline starts (queueing never eats the device's budget) and is released
  only when its worker thread has really finished, so the cap counts real sessions, never more.
  (``asyncio.to_thread`` would use the loop's default executor, whose size we do not own and which others share.)
* A device's deadline (``session_timeout_s``) ends its wait in the loop: its remaining circuits get a "timeout"
  state at once, the worker is aborted (its socket is shut down) and its permit is returned when the thread exits.
  A hung device therefore never delays the cycle's other devices, nor the cycle's end.
* Failures are states, not exceptions: every circuit gets a :class:`~collectors.model.ProbeSample`, with ``error``
  set (``"<state>: <reason>"``, sent = received = 0, so ``loss_ratio`` is None: a failed session is not loss).
* State changes are logged once per transition (device and circuit), never per failed poll, never with a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from collectors.errors import CollectorError
from collectors.model import DeviceTarget, InterfaceSample, ProbeSample, ProbeTarget
from collectors.ssh.cli_counters import (
    parse_ios_show_interfaces,
    parse_ip_link,
    parse_proc_net_dev,
    parse_vrp_display_interface,
)
from collectors.ssh.errors import CommandRejected, OutputParseError, SessionTimeout, SshCollectorError
from collectors.ssh.ping_parsers import PingResult, parse_ping
from collectors.ssh.platforms import PingOptions, Platform, platform_for, rejection_in, render_ping, worst_case_burst_s
from collectors.ssh.session import AbortHandle, SessionOpener, SessionOptions, open_netmiko_session
from collectors.ssh.states import ProbeState, TransitionTracker, state_of

log = logging.getLogger(__name__)

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SshCollectorSettings:
    """The SSH slice of the settings. All durations in seconds."""

    max_sessions: int = 8
    connect_timeout_s: float = 10.0
    auth_timeout_s: float = 10.0
    # Added to each burst's worst-case duration to form the command's read timeout (prompt, CLI latency).
    command_margin_s: float = 5.0
    # Whole-device deadline per cycle (login + every burst + logout). None: derived from the other timeouts.
    session_timeout_s: float | None = None
    ping: PingOptions = field(default_factory=PingOptions)
    known_hosts_path: str | None = None
    strict_host_keys: bool = False

    def __post_init__(self) -> None:
        if self.max_sessions < 1:
            raise ValueError(f"max_sessions must be ≥ 1, got {self.max_sessions}")

    def session_options(self) -> SessionOptions:
        return SessionOptions(
            connect_timeout_s=self.connect_timeout_s,
            auth_timeout_s=self.auth_timeout_s,
            known_hosts_path=self.known_hosts_path,
            strict_host_keys=self.strict_host_keys,
        )


@dataclass(frozen=True, slots=True)
class DeviceProbeResult:
    """One device's cycle: the session's state and one sample per circuit (in the order given)."""

    device: str
    state: ProbeState
    reason: str | None
    samples: tuple[ProbeSample, ...]
    duration_s: float


@dataclass(frozen=True, slots=True)
class DeviceCountersResult:
    device: str
    state: ProbeState
    reason: str | None
    samples: tuple[InterfaceSample, ...]
    duration_s: float


@dataclass(frozen=True, slots=True)
class _RawBurst:
    """What the worker hands back for one circuit: the output text or the error, and when the burst started."""

    probe: ProbeTarget
    ts: datetime
    output: str | None
    error: CollectorError | None


def _failed_sample(device: str, probe: ProbeTarget, ts: datetime, exc: CollectorError) -> ProbeSample:
    return ProbeSample(
        circuit=probe.circuit,
        device=device,
        target=probe.target_address,
        ts=ts,
        sent=0,
        received=0,
        error=f"{state_of(exc)}: {exc}",
    )


def _sample(device: str, probe: ProbeTarget, ts: datetime, r: PingResult) -> ProbeSample:
    return ProbeSample(
        circuit=probe.circuit,
        device=device,
        target=probe.target_address,
        ts=ts,
        sent=r.transmitted,
        received=r.received,
        rtt_min_ms=r.rtt_min_ms,
        rtt_avg_ms=r.rtt_avg_ms,
        rtt_max_ms=r.rtt_max_ms,
        jitter_ms=r.jitter_ms,
    )


def interpret_ping(platform: Platform, output: str) -> PingResult:
    """Parse a burst's output; when it is not a ping result, say whether the device refused the command."""
    try:
        return parse_ping(platform.ping_family, output)
    except OutputParseError:
        rejected = rejection_in(platform, output)
        if rejected is not None:
            raise CommandRejected(f"device refused the ping command: {rejected[:160]!r}") from None
        raise


def parse_counters(platform: Platform, outputs: Sequence[str], device: str, ts: datetime) -> list[InterfaceSample]:
    """Turn the outputs of ``platform.counters_commands`` into interface samples (pure)."""
    family = platform.ping_family
    if family == "cisco_ios":
        return parse_ios_show_interfaces(outputs[0], device, ts)
    if family == "huawei_vrp":
        return parse_vrp_display_interface(outputs[0], device, ts)
    if family == "linux":
        return parse_proc_net_dev(outputs[0], device, ts, parse_ip_link(outputs[1]) if len(outputs) > 1 else None)
    raise CommandRejected(f"CLI counters are not implemented for platform {platform.name!r}; use SNMP")


class SshCollector:
    """Runs SSH work for many devices concurrently, capped at ``settings.max_sessions`` live sessions.

    Use as an async context manager (or call :meth:`aclose`) so the worker pool is shut down.
    """

    name = "ssh"

    def __init__(
        self,
        settings: SshCollectorSettings,
        *,
        opener: SessionOpener = open_netmiko_session,
        now: Callable[[], datetime] = utc_now,
        tracker: TransitionTracker | None = None,
    ) -> None:
        self.settings = settings
        self._opener = opener
        self._now = now
        self._tracker = tracker or TransitionTracker()
        self._pool = ThreadPoolExecutor(max_workers=settings.max_sessions, thread_name_prefix="ssh-session")
        self._sem = asyncio.Semaphore(settings.max_sessions)
        self._parked: set[asyncio.Future[None]] = set()

    async def __aenter__(self) -> SshCollector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self, grace_s: float = 30.0) -> None:
        """Wait (bounded) for aborted workers still unwinding, then stop the pool."""
        if self._parked:
            await asyncio.wait(list(self._parked), timeout=grace_s)
        self._pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def can_handle(device: DeviceTarget) -> bool:
        try:
            platform_for(device.platform)
        except CollectorError:
            return False
        return device.ssh is not None

    # ------------------------------------------------------------------ public API
    async def probe_cycle(
        self, plan: Iterable[tuple[DeviceTarget, Sequence[ProbeTarget]]], options: PingOptions | None = None
    ) -> list[DeviceProbeResult]:
        """Ping every circuit's far end from its PE, one session per device, all devices concurrently (capped)."""
        merged: dict[str, tuple[DeviceTarget, list[ProbeTarget]]] = {}
        for device, probes in plan:
            merged.setdefault(device.name, (device, []))[1].extend(probes)
        return list(await asyncio.gather(*(self.probe_device(dev, probes, options) for dev, probes in merged.values())))

    async def probe_device(
        self, device: DeviceTarget, probes: Sequence[ProbeTarget], options: PingOptions | None = None
    ) -> DeviceProbeResult:
        """One session to ``device``; one burst per circuit in ``probes`` (only ``method == "ssh"`` ones)."""
        opts = options or self.settings.ping
        probes = [p for p in probes if p.method == "ssh"]
        started = time.monotonic()
        if not probes:
            return DeviceProbeResult(device.name, "ok", None, (), 0.0)  # nothing to measure: do not log in
        ts0 = self._now()
        try:
            platform = platform_for(device.platform)
        except CollectorError as exc:
            return self._device_failed(device, probes, ts0, exc, started)
        commands: list[tuple[ProbeTarget, str | CollectorError]] = []
        for probe in probes:
            try:
                commands.append((probe, render_ping(platform, probe, opts)))
            except CollectorError as exc:
                commands.append((probe, exc))
        read_timeout_s = worst_case_burst_s(platform, opts) + self.settings.command_margin_s
        budget_s = self.settings.session_timeout_s or (
            self.settings.connect_timeout_s
            + self.settings.auth_timeout_s
            + len(commands) * read_timeout_s
            + self.settings.command_margin_s
        )
        done: list[_RawBurst] = []  # appended by the worker; list.append is atomic, so a snapshot is safe

        def work(handle: AbortHandle) -> None:
            session = self._opener(device, self.settings.session_options(), handle)
            try:
                for probe, command in commands:
                    if handle.aborted:
                        return
                    ts = self._now()
                    if isinstance(command, CollectorError):
                        done.append(_RawBurst(probe, ts, None, command))
                        continue
                    try:
                        out = session.send_command(command, read_timeout_s)
                    except SessionTimeout:
                        raise  # the session's prompt is lost: the remaining circuits cannot be trusted either
                    except CollectorError as exc:
                        done.append(_RawBurst(probe, ts, None, exc))
                        continue
                    done.append(_RawBurst(probe, ts, out, None))
            finally:
                session.close()

        failure = await self._run_bounded(device, work, budget_s)
        samples: dict[str, ProbeSample] = {}
        circuit_states: dict[str, ProbeState] = {}

        def fail(probe: ProbeTarget, ts: datetime, exc: CollectorError) -> None:
            samples[probe.circuit] = _failed_sample(device.name, probe, ts, exc)
            circuit_states[probe.circuit] = state_of(exc)

        for raw in list(done):
            if raw.error is not None or raw.output is None:
                fail(raw.probe, raw.ts, raw.error or SshCollectorError("no output"))
                continue
            try:
                result = interpret_ping(platform, raw.output)
            except CollectorError as exc:
                fail(raw.probe, raw.ts, exc)
            else:
                samples[raw.probe.circuit] = _sample(device.name, raw.probe, raw.ts, result)
                circuit_states[raw.probe.circuit] = "ok"
        if failure is not None:
            for probe in probes:
                if probe.circuit not in samples:
                    fail(probe, ts0, failure)
        ordered = tuple(samples[p.circuit] for p in probes if p.circuit in samples)
        state: ProbeState = "ok" if failure is None else state_of(failure)
        reason = None if failure is None else str(failure)
        self._note(f"device {device.name}", state, reason)
        for s in ordered:
            # When the whole session failed, the device line already says why; one line per circuit would repeat it.
            self._note(f"circuit {s.circuit}", circuit_states[s.circuit], s.error, quiet=failure is not None)
        return DeviceProbeResult(device.name, state, reason, ordered, time.monotonic() - started)

    async def collect_counters(self, device: DeviceTarget) -> DeviceCountersResult:
        """Interface counters from the CLI, as :class:`InterfaceSample` (``show interfaces``, ``/proc/net/dev``)."""
        started = time.monotonic()
        try:
            platform = platform_for(device.platform)
        except CollectorError as exc:
            return self._counters_failed(device, exc, started)
        read_timeout_s = 30.0 + self.settings.command_margin_s
        budget_s = self.settings.session_timeout_s or (
            self.settings.connect_timeout_s + self.settings.auth_timeout_s + 2 * read_timeout_s
        )
        outputs: list[str] = []
        stamp: list[datetime] = []

        def work(handle: AbortHandle) -> None:
            session = self._opener(device, self.settings.session_options(), handle)
            try:
                stamp.append(self._now())
                for command in platform.counters_commands:
                    if handle.aborted:
                        return
                    outputs.append(session.send_command(command, read_timeout_s))
            finally:
                session.close()

        failure = await self._run_bounded(device, work, budget_s)
        samples: list[InterfaceSample] = []
        if failure is None:
            try:
                samples = parse_counters(platform, outputs, device.name, stamp[0])
            except CollectorError as exc:
                rejected = rejection_in(platform, "\n".join(outputs))
                failure = (
                    exc
                    if rejected is None
                    else CommandRejected(f"device refused the counters command: {rejected[:160]!r}")
                )
        if failure is not None:
            return self._counters_failed(device, failure, started)
        self._note(f"counters {device.name}", "ok", None)
        return DeviceCountersResult(device.name, "ok", None, tuple(samples), time.monotonic() - started)

    async def counters_cycle(self, devices: Iterable[DeviceTarget]) -> list[DeviceCountersResult]:
        return list(await asyncio.gather(*(self.collect_counters(d) for d in devices)))

    # ------------------------------------------------------------------ internals
    def _device_failed(
        self, device: DeviceTarget, probes: Sequence[ProbeTarget], ts: datetime, exc: CollectorError, started: float
    ) -> DeviceProbeResult:
        state = state_of(exc)
        self._note(f"device {device.name}", state, str(exc))
        samples = tuple(_failed_sample(device.name, p, ts, exc) for p in probes)
        return DeviceProbeResult(device.name, state, str(exc), samples, time.monotonic() - started)

    def _counters_failed(self, device: DeviceTarget, exc: CollectorError, started: float) -> DeviceCountersResult:
        state = state_of(exc)
        self._note(f"counters {device.name}", state, str(exc))
        return DeviceCountersResult(device.name, state, str(exc), (), time.monotonic() - started)

    def _note(self, key: str, state: ProbeState, reason: str | None, *, quiet: bool = False) -> None:
        t = self._tracker.observe(key, state, reason)
        if t is None or quiet:
            return
        if t.is_recovery:
            log.info("%s recovered (was %s)", key, t.previous)
        elif t.is_failure:
            log.warning("%s: %s (%s)", key, state, reason)

    async def _run_bounded(
        self, device: DeviceTarget, work: Callable[[AbortHandle], None], budget_s: float
    ) -> CollectorError | None:
        """Run ``work`` in the pool under the semaphore and the device deadline; return the failure, if any."""
        await self._sem.acquire()
        handle = AbortHandle()
        ctx = contextvars.copy_context()
        fut: asyncio.Future[None] = asyncio.get_running_loop().run_in_executor(self._pool, ctx.run, work, handle)
        parked = False
        try:
            await asyncio.wait_for(asyncio.shield(fut), budget_s)
        except TimeoutError:
            handle.abort()
            parked = self._park(fut)
            return SessionTimeout(f"{device.name}: no result within the device deadline of {budget_s:g} s")
        except asyncio.CancelledError:
            handle.abort()
            parked = self._park(fut)
            raise
        except CollectorError as exc:
            return exc
        except Exception as exc:  # a bug or an unexpected library error: one device must not stop the cycle
            log.exception("unexpected error in the SSH session to %s", device.name)
            return SshCollectorError(f"{device.name}: unexpected {type(exc).__name__}")
        finally:
            if not parked:
                self._sem.release()
        return None

    def _park(self, fut: asyncio.Future[None]) -> bool:
        """Keep the permit until the aborted worker really exits, then release it."""
        if fut.done():
            with contextlib.suppress(BaseException):
                fut.exception()
            return False

        def release(f: asyncio.Future[None]) -> None:
            self._parked.discard(f)
            self._sem.release()
            if not f.cancelled() and f.exception() is not None:
                log.debug("aborted SSH worker ended with %r", f.exception())

        self._parked.add(fut)
        fut.add_done_callback(release)
        return True
