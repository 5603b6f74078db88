"""From inventory text to a validated ``InventoryDoc``: syntax, types, then references, all errors at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from noc import yamlsrc
from noc.errors import Problem, ValidationFailed
from noc.inventory.schema import InventoryDoc


def parse(text: str, source: str, environ: Mapping[str, str] | None) -> tuple[InventoryDoc, yamlsrc.Located]:
    """Validate ``text``. With ``environ`` given, ``${VAR}`` secrets are resolved (and must be set)."""
    located = yamlsrc.load(text, source)
    if located.data is None:
        located = yamlsrc.Located({}, located.lines, source)
    if not isinstance(located.data, dict):
        raise ValidationFailed([Problem(source, 1, "", "expected a mapping with users, devices, accounts, ...")])
    try:
        doc = InventoryDoc.model_validate(located.data, context={"environ": environ})
    except ValidationError as exc:
        raise ValidationFailed([_problem(located, err) for err in exc.errors()]) from exc
    problems = check_references(doc, located)
    if problems:
        raise ValidationFailed(problems)
    return doc, located


def _problem(located: yamlsrc.Located, err: Any) -> Problem:
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown field"
    elif err["type"] == "missing":
        message = "required field is missing"
    return located.problem(_file_path(located.data, err["loc"]), message)


def _file_path(data: Any, loc: Sequence[Any]) -> list[str | int]:
    """pydantic's error location as a path in the file: union-member tags (e.g. 'recurring') are dropped."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            path.append(part)
            node = node[part]
        elif i == len(loc) - 1 and isinstance(part, str):
            path.append(part)  # a missing field: name it under its parent
    return path


def check_references(doc: InventoryDoc, located: yamlsrc.Located) -> list[Problem]:
    problems: list[Problem] = []

    def names(section: str, items: Sequence[Any], key: str = "name") -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for i, item in enumerate(items):
            value = getattr(item, key)
            if value in seen:
                first = located.line_of((section, seen[value][0], key))
                problems.append(located.problem((section, i, key), f"duplicate name {value!r} (first at line {first})"))
            else:
                seen[value] = (i, item)
        return {k: v[1] for k, v in seen.items()}

    users = names("users", doc.users, "username")
    snmp = names("snmp_profiles", doc.snmp_profiles)
    ssh = names("ssh_profiles", doc.ssh_profiles)
    names("technicians", doc.technicians)
    devices = names("devices", doc.devices)
    accounts = names("accounts", doc.accounts)
    contracts = names("contracts", doc.contracts)
    names("circuits", doc.circuits)

    def ref(path: tuple[str | int, ...], value: str | None, table: Mapping[str, Any], what: str) -> Any:
        if value is None:
            return None
        if value not in table:
            problems.append(located.problem(path, f"no {what} named {value!r}"))
            return None
        return table[value]

    for i, tech in enumerate(doc.technicians):
        user = ref(("technicians", i, "user"), tech.user, users, "user")
        if user is not None and user.role != "technician":
            problems.append(located.problem(("technicians", i, "user"), f"user {tech.user!r} has role {user.role}"))
    for i, device in enumerate(doc.devices):
        ref(("devices", i, "snmp_profile"), device.snmp_profile, snmp, "snmp profile")
        ref(("devices", i, "ssh_profile"), device.ssh_profile, ssh, "ssh profile")
    for i, account in enumerate(doc.accounts):
        manager = ref(("accounts", i, "account_manager"), account.account_manager, users, "user")
        if manager is not None and manager.role != "account_manager":
            problems.append(
                located.problem(
                    ("accounts", i, "account_manager"), f"user {manager.username!r} has role {manager.role}"
                )
            )
        seen_roles: set[str] = set()
        for j, contact in enumerate(account.contacts):
            if contact.role in seen_roles:
                problems.append(located.problem(("accounts", i, "contacts", j, "role"), "duplicate contact role"))
            seen_roles.add(contact.role)
    for i, contract in enumerate(doc.contracts):
        ref(("contracts", i, "account"), contract.account, accounts, "account")
    for i, circuit in enumerate(doc.circuits):
        ref(("circuits", i, "account"), circuit.account, accounts, "account")
        contract = ref(("circuits", i, "contract"), circuit.contract, contracts, "contract")
        device = ref(("circuits", i, "device"), circuit.device, devices, "device")
        if contract is not None and contract.account != circuit.account:
            problems.append(
                located.problem(
                    ("circuits", i, "contract"),
                    f"contract {contract.name!r} belongs to account {contract.account!r}, not {circuit.account!r}",
                )
            )
        if device is not None and circuit.probe == "ssh" and device.ssh_profile is None:
            problems.append(
                located.problem(
                    ("circuits", i, "probe"), f"probe ssh needs device {device.name!r} to have an ssh_profile"
                )
            )
    return problems
