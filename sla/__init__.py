"""SLA levels and their evaluation: Δt availability states, windows, maintenance, monthly compliance, credits."""
