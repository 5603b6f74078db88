"""Storage of what the poll stage measured: raw rows and rollups, written in idempotent batches."""
