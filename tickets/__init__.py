"""Key-account records, fault tickets and their lifecycle rules, dispatch, timers, the fault case library."""
