"""The measurement path as stages: the poll stage publishes one typed message per device poll and probe round on a
bus; independent consumers (store, SLA engine, exporter snapshot, ticket rules) take it from there."""
