"""Table-driven tests of the ping parsers over real output formats (tests/data/ping/<platform>/*.txt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.errors import BadAnswer, CollectorError
from collectors.ssh import PLATFORMS, interpret_ping, parse_ping
from collectors.ssh.errors import CommandRejected, OutputParseError
from collectors.ssh.ping_parsers import PingResult, stddev_ms

DATA = Path(__file__).resolve().parents[2] / "data" / "ping"


def fixture(platform: str, name: str) -> str:
    return (DATA / platform / f"{name}.txt").read_text()


# platform, fixture, (transmitted, received, duplicates, min, avg, max, jitter)
GOOD = [
    ("cisco_ios", "partial_loss", (5, 4, 0, 1.0, 2.0, 4.0, None)),
    ("cisco_ios", "all_ok_vrf_source", (100, 100, 0, 12.0, 14.0, 31.0, None)),
    ("cisco_ios", "total_loss", (5, 0, 0, None, None, None, None)),
    ("cisco_ios", "unreachable_U", (5, 0, 0, None, None, None, None)),
    ("cisco_ios", "odd_spacing_crlf", (5, 5, 0, 1.0, 1.0, 1.0, None)),
    ("cisco_ios", "missing_rtt_line", (5, 5, 0, None, None, None, None)),
    ("huawei_vrp", "partial_loss", (5, 4, 0, 1.0, 2.0, 4.0, pytest.approx(1.5**0.5))),
    ("huawei_vrp", "request_timed_out", (5, 2, 0, 10.0, 20.0, 30.0, 10.0)),
    ("huawei_vrp", "total_loss", (5, 0, 0, None, None, None, None)),
    ("huawei_vrp", "missing_rtt_line", (2, 2, 0, None, None, None, 1.0)),
    ("huawei_vrp", "vpn_instance_one_reply", (2, 1, 0, 7.0, 7.0, 7.0, None)),
    ("juniper_junos", "rapid_ok", (5, 5, 0, 1.228, 1.489, 2.029, 0.287)),
    ("juniper_junos", "duplicates", (3, 3, 1, 0.777, 0.860, 0.950, 0.072)),
    ("juniper_junos", "partial_loss_rapid", (10, 7, 0, 0.519, 0.641, 0.885, 0.119)),
    ("juniper_junos", "total_loss", (5, 0, 0, None, None, None, None)),
    ("linux", "quiet_ok", (200, 200, 0, 0.008, 0.036, 0.101, 0.012)),
    ("linux", "duplicates", (3, 3, 2, 0.045, 0.152, 0.310, 0.123)),
    ("linux", "partial_loss_pipe", (200, 165, 0, 0.015, 0.048, 1.048, 0.078)),
    ("linux", "total_loss_errors", (5, 0, 0, None, None, None, None)),
    ("linux", "busybox_no_mdev", (3, 2, 0, 1.0, 2.0, 3.0, 1.0)),
    ("linux", "missing_rtt_line", (4, 4, 0, None, None, None, None)),
]


@pytest.mark.parametrize(("platform", "name", "expected"), GOOD, ids=[f"{p}-{n}" for p, n, _ in GOOD])
def test_parses_real_formats(platform: str, name: str, expected: tuple[object, ...]) -> None:
    r = interpret_ping(PLATFORMS[platform], fixture(platform, name))
    got = (r.transmitted, r.received, r.duplicates, r.rtt_min_ms, r.rtt_avg_ms, r.rtt_max_ms, r.jitter_ms)
    assert got == expected


def test_loss_ratio_is_computed_from_counts_not_the_printed_percent() -> None:
    r = parse_ping("linux", fixture("linux", "partial_loss_pipe"))
    assert r.loss_ratio == pytest.approx(35 / 200)
    assert parse_ping("cisco_ios", fixture("cisco_ios", "total_loss")).loss_ratio == 1.0


REJECTED = [
    ("cisco_ios", "invalid_input"),
    ("huawei_vrp", "unrecognized"),
    ("juniper_junos", "syntax_error"),
    ("linux", "network_unreachable"),
]


@pytest.mark.parametrize(("platform", "name"), REJECTED)
def test_refused_commands_are_typed_as_rejections(platform: str, name: str) -> None:
    with pytest.raises(CommandRejected) as info:
        interpret_ping(PLATFORMS[platform], fixture(platform, name))
    assert isinstance(info.value, CollectorError)


GARBAGE = [
    ("cisco_ios", fixture("cisco_ios", "garbage")),
    ("linux", fixture("linux", "garbage")),
    ("huawei_vrp", ""),
    ("juniper_junos", "PING 10.0.0.1 (10.0.0.1): 56 data bytes\n!!!!\n"),  # cut before the summary
    ("cisco_ios", "Success rate is 80 percent (4/"),
    ("linux", "5 packets transmitted, 9 received, 0% packet loss\n"),  # more replies than requests
    ("linux", "5 packets transmitted, 5 received\nrtt min/avg/max/mdev = 3.0/2.0/1.0/0.1 ms\n"),  # out of order
]


@pytest.mark.parametrize(("platform", "text"), GARBAGE)
def test_garbage_is_a_parse_error_never_a_number(platform: str, text: str) -> None:
    with pytest.raises(OutputParseError) as info:
        interpret_ping(PLATFORMS[platform], text)
    assert isinstance(info.value, BadAnswer)


def test_stddev_matches_iputils_mdev_definition() -> None:
    assert stddev_ms([1.0]) is None
    assert stddev_ms([1.0, 3.0]) == 1.0


def _linux_summary(tx: int, rx: int, dups: int, rtts: list[float]) -> str:
    dup = f", +{dups} duplicates" if dups else ""
    loss = 100 * (tx - rx) / tx
    out = "PING 10.0.0.1 (10.0.0.1) 56(84) bytes of data.\n\n--- 10.0.0.1 ping statistics ---\n"
    out += f"{tx} packets transmitted, {rx} received{dup}, {loss:g}% packet loss, time 10ms\n"
    if rx and rtts:
        lo, hi, avg = min(rtts), max(rtts), sum(rtts) / len(rtts)
        out += f"rtt min/avg/max/mdev = {lo:.3f}/{avg:.3f}/{hi:.3f}/0.010 ms\n"
    return out


@given(
    st.integers(min_value=1, max_value=10_000).flatmap(
        lambda tx: st.tuples(
            st.just(tx),
            st.integers(min_value=0, max_value=tx),
            st.integers(min_value=0, max_value=50),
            st.lists(st.floats(min_value=0.001, max_value=5000, allow_nan=False), min_size=1, max_size=5),
        )
    )
)
def test_property_linux_counts_round_trip_and_loss_in_unit_interval(args: tuple[int, int, int, list[float]]) -> None:
    tx, rx, dups, rtts = args
    r = parse_ping("linux", _linux_summary(tx, rx, dups, rtts))
    assert (r.transmitted, r.received, r.duplicates) == (tx, rx, dups)
    assert r.loss_ratio is not None
    assert 0.0 <= r.loss_ratio <= 1.0
    assert r.received <= r.transmitted
    assert (r.rtt_avg_ms is None) == (rx == 0)


@given(st.text(max_size=400))
def test_property_any_text_yields_a_result_or_a_typed_error(text: str) -> None:
    for platform in PLATFORMS.values():
        try:
            r = interpret_ping(platform, text)
        except CollectorError:
            continue
        assert isinstance(r, PingResult)
        assert 0 <= r.received <= r.transmitted
        assert r.loss_ratio is None or 0.0 <= r.loss_ratio <= 1.0


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_property_ios_success_line(rx: int, tx: int) -> None:
    text = f"Success rate is 50 percent ({rx}/{tx}), round-trip min/avg/max = 1/2/3 ms\n"
    if rx > tx:
        with pytest.raises(OutputParseError):
            parse_ping("cisco_ios", text)
        return
    r = parse_ping("cisco_ios", text)
    assert (r.received, r.transmitted) == (rx, tx)
    assert r.rtt_avg_ms == (2.0 if rx else None)
