"""Inventory as code: validate, import (idempotent, all-or-nothing, with history) and export the operator's records.

The file must be self-contained: every reference (device → profile, circuit → contract, ...) resolves inside it.
Objects in the database that the file does not mention are left as they are.
"""
