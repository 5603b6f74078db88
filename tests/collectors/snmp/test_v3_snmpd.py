"""SNMPv3 interop with net-snmp snmpd: every allowed auth/priv pair (the native client cross-checked against
pysnmp), an agent restart and a new engine ID mid-run, wrong keys and an unknown user (a clear error naming the
device, no secret), and many requests in flight on few sockets without a lost or mismatched answer."""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from collectors.errors import CredentialsRejected, WeakCryptoRefused
from collectors.model import AuthProtocol, PrivProtocol, SnmpCredentials
from collectors.snmp import usm
from collectors.snmp.client import EXCEPTION_TYPES, Oid, SnmpEndpoint
from collectors.snmp.discovery import discover
from collectors.snmp.fast_backend import NativeClient
from collectors.snmp.pysnmp_backend import PysnmpClient
from collectors.snmp.transport import UdpEngine
from noc.flow.collect import Reference, snmp_client
from noc.settings import PollerSettings
from tests.peers.require import need
from tests.peers.snmpd import SnmpdAgent, free_udp_port, snmpd_available

pytestmark = pytest.mark.peers

AUTH_KEY = "auth-interop-1"
PRIV_KEY = "priv-interop-2"
PAIRS: list[tuple[AuthProtocol, PrivProtocol]] = list(itertools.product(usm.AUTH_PROTOCOLS, usm.PRIV_PROTOCOLS))  # type: ignore[arg-type]
SYS_NAME: Oid = (1, 3, 6, 1, 2, 1, 1, 5, 0)
ENGINE_ID: Oid = (1, 3, 6, 1, 6, 3, 10, 2, 1, 1, 0)
ENGINE_BOOTS: Oid = (1, 3, 6, 1, 6, 3, 10, 2, 1, 2, 0)


def user_of(auth: str, priv: str) -> str:
    return f"u{auth}{priv}".replace("-", "").lower()


@dataclass
class V3Agent(SnmpdAgent):
    """snmpd with one user per allowed auth/priv pair (net-snmp spells Cisco's key extension AES-192-C/AES-256-C)."""

    def write_config(self) -> None:
        super().write_config()
        users = [
            f"createUser {user_of(a, p)} {a} {AUTH_KEY} {p} {PRIV_KEY}\nrouser {user_of(a, p)} priv\n" for a, p in PAIRS
        ]
        weak = f"createUser uweak MD5 {AUTH_KEY} DES {PRIV_KEY}\nrouser uweak priv\n"
        with self.conf.open("a") as conf:
            conf.write("".join(users) + weak)


@pytest.fixture(scope="module")
def agent() -> Iterator[V3Agent]:
    need(snmpd_available(), "net-snmp snmpd")
    snmpd = V3Agent(address="127.0.0.1", port=free_udp_port(), sys_name="v3-lab")
    try:
        snmpd.start()
        yield snmpd
    finally:
        snmpd.cleanup()


def endpoint(agent: SnmpdAgent, auth: str = "SHA-256", priv: str = "AES", **overrides: str) -> SnmpEndpoint:
    fields = {"user": user_of(auth, priv), "auth_key": AUTH_KEY, "priv_key": PRIV_KEY, **overrides}
    credentials = SnmpCredentials("3", auth_protocol=auth, priv_protocol=priv, **fields)  # type: ignore[arg-type]
    return SnmpEndpoint("pe-v3", agent.address, agent.port, credentials, timeout_s=0.5, retries=1)


@pytest.mark.parametrize(("auth", "priv"), PAIRS)
async def test_every_allowed_pair_answers_like_pysnmp(
    agent: V3Agent, native: NativeClient, reference: PysnmpClient, auth: str, priv: str
) -> None:
    ep = endpoint(agent, auth, priv)
    ours = await native.get(ep, [SYS_NAME, ENGINE_ID])
    theirs = await reference.get(ep, [SYS_NAME, ENGINE_ID])
    assert ours == theirs
    assert ours[0].value == b"v3-lab"
    assert (await discover(native, ep)).interfaces == (await discover(reference, ep)).interfaces


async def test_restart_and_new_engine_id_mid_run_are_relearned(native: NativeClient) -> None:
    """The agent restarts (boots + 1, time from 0), then comes back with a new engine ID: every request works."""
    snmpd = V3Agent(address="127.0.0.1", port=free_udp_port(), sys_name="phoenix")
    try:
        snmpd.start()
        ep = endpoint(snmpd, "SHA-512", "AES-256")
        first = await native.get(ep, [ENGINE_ID, ENGINE_BOOTS])
        snmpd.restart()
        rebooted = await native.get(ep, [ENGINE_ID, ENGINE_BOOTS])  # notInTimeWindow report, resync, resend
        assert rebooted[0].value == first[0].value
        assert isinstance(rebooted[1].value, int) and isinstance(first[1].value, int)
        assert rebooted[1].value == first[1].value + 1
        snmpd.stop()
        shutil.rmtree(snmpd.workdir / "persist")
        snmpd.start()
        replaced = await native.get(ep, [ENGINE_ID, SYS_NAME])  # unknownEngineID report, rediscover, resend
        assert replaced[0].value != first[0].value
        assert replaced[1].value == b"phoenix"
    finally:
        snmpd.cleanup()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"auth_key": "not-the-auth-key"}, "wrong auth key or protocol", id="wrong-auth-key"),
        pytest.param({"priv_key": "not-the-priv-key"}, "privacy key or protocol probably wrong", id="wrong-priv-key"),
        pytest.param({"user": "nobody"}, "does not know the SNMPv3 user", id="unknown-user"),
    ],
)
async def test_rejected_credentials_name_the_device_never_a_secret(
    agent: V3Agent, native: NativeClient, overrides: dict[str, str], message: str
) -> None:
    ep = endpoint(agent, **overrides)
    with pytest.raises(CredentialsRejected, match=message) as caught:
        await native.get(ep, [SYS_NAME])
    text = str(caught.value)
    assert text.startswith(f"pe-v3 ({agent.address}:{agent.port}): ")
    for secret in (AUTH_KEY, PRIV_KEY, *overrides.values()):
        if secret != "nobody":
            assert secret not in text


async def test_many_requests_in_flight_on_few_sockets_are_all_answered_and_matched(agent: V3Agent) -> None:
    """1,000 concurrent GETs (v2c and v3) through an engine held to 2 small sockets: requests wait for a slot
    rather than overflow a buffer; every answer is the one to its own request."""
    engine = UdpEngine(max_sockets=2, receive_buffer_bytes=64 * 1024)
    client = NativeClient(engine=engine)
    v2c = SnmpEndpoint("pe-v2c", agent.address, agent.port, SnmpCredentials("2c", community="public"), 2.0, 2)
    v3 = endpoint(agent, "SHA-384", "AES-192-C")
    v3 = SnmpEndpoint(v3.device, v3.address, v3.port, v3.credentials, 2.0, 2)
    try:

        async def probe(n: int) -> bool:
            asked: Oid = (1, 3, 6, 1, 2, 1, 1, 9, 1, 2, 10_000 + n)  # absent: the answer echoes our own OID
            answer = await client.get(v2c if n % 2 else v3, [asked])
            return answer[0].oid == asked and answer[0].type in EXCEPTION_TYPES

        results = await asyncio.gather(*(probe(n) for n in range(1000)))
        assert all(results)
        assert 1 <= engine.sockets <= 2  # a second socket opens only when the first is at its cap
        assert engine.capacity <= 2 * 16  # 64 KiB buffers hold 16 answers each: most requests waited for a slot
    finally:
        client.close()


async def test_weak_crypto_allowed_by_the_profile_goes_through_pysnmp(agent: V3Agent, reference: PysnmpClient) -> None:
    weak = SnmpCredentials(
        "3", user="uweak", auth_protocol="MD5", auth_key=AUTH_KEY, priv_protocol="DES", priv_key=PRIV_KEY,
        allow_weak_crypto=True,
    )  # fmt: skip
    ep = SnmpEndpoint("legacy", agent.address, agent.port, weak, timeout_s=0.5, retries=1)
    with_reference = NativeClient(weak=reference)
    alone = NativeClient()
    try:
        assert (await with_reference.get(ep, [SYS_NAME]))[0].value == b"v3-lab"
        with pytest.raises(WeakCryptoRefused, match=r"legacy: .*needs the pysnmp backend"):
            await alone.get(ep, [SYS_NAME])
    finally:
        with_reference.close()
        alone.close()


async def test_the_service_loads_pysnmp_only_for_a_weak_profile(agent: V3Agent) -> None:
    weak = SnmpCredentials(
        "3", user="uweak", auth_protocol="MD5", auth_key=AUTH_KEY, priv_protocol="DES", priv_key=PRIV_KEY,
        allow_weak_crypto=True,
    )  # fmt: skip
    legacy = SnmpEndpoint("legacy", agent.address, agent.port, weak, timeout_s=0.5, retries=1)
    with snmp_client(PollerSettings()) as client:  # what the service polls with
        assert isinstance(client, NativeClient)
        assert (await client.get(legacy, [SYS_NAME]))[0].value == b"v3-lab"
    reference = Reference()
    client = NativeClient(weak=reference)
    try:
        assert (await client.get(endpoint(agent), [SYS_NAME]))[0].value == b"v3-lab"
        assert not reference.built  # SHA-2/AES: the native codec alone, pysnmp never built
        assert (await client.get(legacy, [SYS_NAME]))[0].value == b"v3-lab"
        assert reference.built
    finally:
        client.close()
        reference.close()
