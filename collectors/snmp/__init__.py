"""SNMP collection: a typed client seam, a pysnmp adapter, IF-MIB discovery and polling.

Layers (each usable alone):

- ``client``: the seam. ``SnmpClient`` protocol (``get``, ``get_bulk``), plain values (``VarBind``, ``SnmpType``,
  ``Oid``), ``SnmpEndpoint`` (device, address, port, credentials, per-PDU timeout/retries) and
  ``check_credentials`` (SNMPv3 policy: authPriv, SHA-2 family, AES; else ``WeakCryptoRefused``).
- ``fast_backend.NativeClient``: the default implementation on the own codec (``ber`` for BER, ``usm`` for SNMPv3
  USM with SHA-2 and AES, ``transport.UdpEngine`` for sockets and request matching); one client per process and
  event loop; ``close()`` when done. Weak-crypto profiles go to the ``weak`` client it is given (pysnmp).
- ``pysnmp_backend.PysnmpClient``: the pysnmp 7 reference implementation; ONE ``SnmpEngine`` per client.
- ``walk``: ``walk_columns`` (parallel GETBULK over many columns, bounded, rejects non-increasing OIDs and
  oversized tables) and ``get_many`` (GETs split into bounded PDUs).
- ``discovery``: ``discover(client, endpoint) -> DeviceDiscovery`` (system group + every ifTable/ifXTable row).
- ``poll``: ``poll(client, endpoint, discovery, only=None) -> PollResult`` (DeviceSample + InterfaceSamples) and
  ``SnmpCollector`` which caches discoveries and re-discovers on its own.

Typical assembly (the rate math and availability live in ``collectors.counters`` / ``collectors.availability``,
the loop in ``collectors.scheduler``)::

    client = NativeClient(weak=PysnmpClient())
    collector = SnmpCollector(client, timeout_s=2.0, retries=1)
    tracker = RateTracker()

    async def on_record(record: PollRecord[PollResult]) -> None:
        if record.ok and record.result:
            rates = tracker.update(record.result.device, record.result.interfaces)  # DeviceRates
            ...  # store samples + rates; record.transition says "down"/"recovered"

    scheduler = Scheduler(collector.poll, SchedulerSettings(max_concurrency=64), on_record=on_record)
    await scheduler.run(targets)            # or: report = await scheduler.run_cycle(targets)

Errors: everything raised is a ``collectors.errors.CollectorError`` (``DeviceUnreachable``, ``BadAnswer``,
``CredentialsRejected``, ``WeakCryptoRefused``); pysnmp/pyasn1 exceptions are wrapped with ``raise ... from``;
the own decoders raise only ``BadAnswer`` whatever bytes arrive (fuzzed in the tests).
"""

from collectors.snmp.client import SnmpClient, SnmpEndpoint, SnmpType, VarBind, check_credentials, oid
from collectors.snmp.discovery import DeviceDiscovery, DiscoveredInterface, SystemInfo, discover
from collectors.snmp.poll import PollResult, SnmpCollector, poll
from collectors.snmp.walk import WalkResult, get_many, walk_columns

__all__ = [
    "DeviceDiscovery",
    "DiscoveredInterface",
    "PollResult",
    "SnmpClient",
    "SnmpCollector",
    "SnmpEndpoint",
    "SnmpType",
    "SystemInfo",
    "VarBind",
    "WalkResult",
    "check_credentials",
    "discover",
    "get_many",
    "oid",
    "poll",
    "walk_columns",
]
