"""Key-account records, fault tickets and their lifecycle rules, dispatch, timers, the fault case library.

Pure parts (no database, no clock; every instant is passed in):

* ``tickets.rules`` - fault input (``FaultEvent``, ``FaultCleared``, ``DeviceDown``, ``DeviceUp``; ``sla_breach_fault``
  and ``sla_recovery`` map an SLA breach / recovery), and the decisions: ``decide_fault`` (open, append a recurrence,
  reopen within the window; a changed impact updates the ticket), ``decide_device_down`` (one parent incident, one
  child per circuit), ``decide_clear`` (recovery; per-account auto-resolve), ``priority`` (tier x impact matrix).
* ``tickets.lifecycle`` - statuses and allowed transitions; tier-A tickets close only with cause and resolution.
* ``tickets.timers`` - ``evaluate_timers(view, now, settings)``: response / restoration warnings and two-level
  escalation, stop-clock excluded.
* ``tickets.dispatch`` - ``choose_technician`` by region, platform skill, queue length.
* ``tickets.access`` - who may see and do what (admin, noc, technician, account_manager).
* ``tickets.records`` - the health archive's shape, contract expiry reminders, the SLA compliance hook.
* ``tickets.fieldwork`` - a technician's day: acknowledged "until", reasons, resolving while the fault is seen
  (on-site confirmation) and its recheck; ``tickets.attachments`` - a worklog file's type, size and hash.

Stateful parts: ``tickets.models`` / ``tickets.audit`` (tables, migration 0004), ``tickets.cases`` (full-text case
search on SQLite FTS5 and PostgreSQL), and ``tickets.service.TicketService``, which applies the rules in one
transaction per operation with optimistic locking; ``tickets.fieldservice.FieldWork`` persists the field work
through it (take, on-site resolution, attachments, the lapsed-acknowledgement and on-site checks). Settings:
``noc.settings.TicketSettings`` (the ``tickets`` slice). Errors derive from ``tickets.errors.TicketError`` and carry
their CLI exit code.
"""
