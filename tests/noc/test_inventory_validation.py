"""Broken inventories are refused with ``file:line: field: reason``, before anything touches a database."""

from __future__ import annotations

import pytest

from noc.errors import ValidationFailed
from noc.inventory import loader

BASE = """\
users:
  - {username: karl, role: account_manager}
  - {username: tom, role: technician}
snmp_profiles:
  - {name: v2, version: 2c, community: public-ro}
devices:
  - name: pe-1
    address: 10.0.0.1
    platform: cisco_ios
    snmp_profile: v2
accounts:
  - {name: acme, legal_name: ACME, tier: A, account_manager: karl}
contracts:
  - name: c-1
    account: acme
    valid_from: 2026-01-01
    valid_to: 2026-12-31
    timezone: Europe/Berlin
    sla: {availability_target_pct: "99.9"}
circuits:
  - {name: ckt-1, account: acme, contract: c-1, device: pe-1, interface: Gi0/1}
"""


def problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        loader.parse(text, "inv.yaml", environ if environ is not None else {})
    return [str(p) for p in info.value.problems]


def test_base_is_valid() -> None:
    doc, _ = loader.parse(BASE, "inv.yaml", {})
    assert [c.name for c in doc.circuits] == ["ckt-1"]
    assert doc.contracts[0].sla.sliding_window_n == 1
    assert (doc.devices[0].site_address, doc.devices[0].access_notes) == ("", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # unknown reference, with the line of the offending field
        (
            BASE.replace("device: pe-1, interface", "device: pe-9, interface"),
            ["inv.yaml:21: circuits[0].device: no device named 'pe-9'"],
        ),
        # wrong type
        (
            BASE.replace("address: 10.0.0.1", "address: [10, 0]"),
            ["inv.yaml:8: devices[0].address: Input should be a valid string"],
        ),
        # bad value with a reason naming it
        (
            BASE.replace("address: 10.0.0.1", "address: 10.0.0.300"),
            ["inv.yaml:8: devices[0].address: '10.0.0.300' is neither an IP address nor a host name"],
        ),
        # duplicate name
        (
            BASE.replace(
                "circuits:\n",
                "circuits:\n  - {name: ckt-1, account: acme, contract: c-1, device: pe-1, interface: Gi0/2}\n",
            ),
            ["inv.yaml:22: circuits[1].name: duplicate name 'ckt-1' (first at line 21)"],
        ),
        # the technician's site facts are bounded like the other fields
        (
            BASE.replace("    platform: cisco_ios\n", f"    platform: cisco_ios\n    access_notes: {'x' * 2001}\n"),
            ["inv.yaml:10: devices[0].access_notes: String should have at most 2000 characters"],
        ),
        (
            BASE.replace("    platform: cisco_ios\n", "    platform: cisco_ios\n    site_address: [1, 2]\n"),
            ["inv.yaml:10: devices[0].site_address: Input should be a valid string"],
        ),
        # duplicate key in one mapping (plain YAML would silently keep the last)
        (
            BASE.replace("    platform: cisco_ios\n", "    platform: cisco_ios\n    platform: linux\n"),
            ["inv.yaml:10: devices[0].platform: duplicate key"],
        ),
        # malformed YAML
        (BASE.replace("  - {name: acme, legal_name", "  - {name: acme legal_name: [", 1), None),
        # unknown field
        (
            BASE.replace("    platform: cisco_ios\n", "    platform: cisco_ios\n    colour: red\n"),
            ["inv.yaml:10: devices[0].colour: unknown field"],
        ),
        # missing field
        (
            BASE.replace("    timezone: Europe/Berlin\n", ""),
            ["inv.yaml:14: contracts[0].timezone: required field is missing"],
        ),
        # unknown time zone
        (
            BASE.replace("Europe/Berlin", "Mars/Olympus"),
            [
                "inv.yaml:18: contracts[0].timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as "
                "Europe/Berlin)"
            ],
        ),
        # role mismatch
        (
            BASE.replace("account_manager: karl}", "account_manager: tom}"),
            ["inv.yaml:12: accounts[0].account_manager: user 'tom' has role technician"],
        ),
        # weak SNMPv3 crypto refused by default
        (
            BASE.replace(
                "  - {name: v2, version: 2c, community: public-ro}",
                "  - {name: v2, version: 3, user: u, auth_protocol: MD5, auth_key: k1234567, priv_protocol: DES, "
                "priv_key: k7654321}",
            ),
            [
                "inv.yaml:5: snmp_profiles[0]: MD5/DES is weak; use SHA-224..SHA-512 with AES, or set "
                "allow_weak_crypto: true for this profile"
            ],
        ),
        # an environment reference that is not set
        (
            BASE.replace("community: public-ro", 'community: "${NOT_SET_ANYWHERE}"'),
            ["inv.yaml:5: snmp_profiles[0].community: environment variable NOT_SET_ANYWHERE is not set"],
        ),
    ],
    ids=[
        "unknown-ref",
        "wrong-type",
        "bad-address",
        "duplicate-name",
        "access-notes-too-long",
        "site-address-not-text",
        "duplicate-key",
        "malformed",
        "unknown-field",
        "missing-field",
        "bad-timezone",
        "role-mismatch",
        "weak-snmpv3",
        "unset-env",
    ],
)
def test_broken_inventory_is_located(text: str, expected: list[str] | None) -> None:
    found = problems(text)
    if expected is None:
        assert len(found) == 1 and found[0].startswith("inv.yaml:12: malformed YAML"), found
    else:
        assert found == expected


def test_every_problem_is_reported_at_once() -> None:
    text = BASE.replace("address: 10.0.0.1", "address: nope..").replace("Europe/Berlin", "Nowhere")
    assert len(problems(text)) == 2


def test_weak_crypto_is_allowed_only_when_asked() -> None:
    weak = (
        "  - {name: v2, version: 3, user: u, auth_protocol: SHA, auth_key: k1234567, priv_protocol: AES, "
        "priv_key: k7654321"
    )
    doc, _ = loader.parse(
        BASE.replace("  - {name: v2, version: 2c, community: public-ro", weak + ", allow_weak_crypto: true"),
        "inv.yaml",
        {},
    )
    assert doc.snmp_profiles[0].allow_weak_crypto is True
    assert problems(BASE.replace("  - {name: v2, version: 2c, community: public-ro", weak))


def test_env_reference_is_resolved_and_remembered() -> None:
    doc, _ = loader.parse(
        BASE.replace("community: public-ro", "community: '${RO_COMMUNITY}'"),
        "inv.yaml",
        {"RO_COMMUNITY": "s3cret-value"},
    )
    community = doc.snmp_profiles[0].community
    assert community is not None and community.plain == "s3cret-value" and community.ref == "RO_COMMUNITY"
    assert "s3cret" not in repr(doc)


def test_contract_must_belong_to_the_circuits_account() -> None:
    text = BASE.replace("accounts:\n", "accounts:\n  - {name: other, legal_name: Other, tier: C}\n").replace(
        "ckt-1, account: acme", "ckt-1, account: other"
    )
    assert problems(text) == [
        "inv.yaml:22: circuits[0].contract: contract 'c-1' belongs to account 'acme', not 'other'"
    ]


def test_credit_bands_must_descend() -> None:
    text = BASE.replace(
        'sla: {availability_target_pct: "99.9"}',
        'sla: {availability_target_pct: "99.9"}\n    credits: {bands: [{below_pct: 99, credit_pct: 10}, '
        "{below_pct: 99.5, credit_pct: 5}]}",
    )
    assert problems(text) == [
        "inv.yaml:20: contracts[0].credits: bands must be listed by below_pct, highest first, without repeats"
    ]


def test_the_report_terms_default_and_are_bounded() -> None:
    doc, _ = loader.parse(BASE, "inv.yaml", {})
    assert (doc.contracts[0].sla.min_measured_pct, doc.contracts[0].sla.availability_places) == (90, 2)
    text = BASE.replace(
        'sla: {availability_target_pct: "99.9"}',
        'sla: {availability_target_pct: "99.9", min_measured_pct: 101, availability_places: 7}',
    )
    found = problems(text)
    assert len(found) == 2, found
    assert found[0].startswith("inv.yaml:19: contracts[0].sla.min_measured_pct: ") and "100" in found[0]
    assert found[1].startswith("inv.yaml:19: contracts[0].sla.availability_places: ") and "6" in found[1]
