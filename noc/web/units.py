"""Values as the NOC reads them on the network pages: units and sensible rounding (``1.2 Gbit/s``, ``12.4 ms``,
``6.7 %``), durations (``2 d 4 h``). The graphs' script formats its hover values the same way."""

from __future__ import annotations

PREFIXES = ("", "k", "M", "G", "T", "P")


def _round(value: float) -> str:
    size = abs(value)
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}".removesuffix(".0")
    if value == 0:
        return "0"
    if size >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def bits(value: float | None) -> str:
    """bit/s with a decimal prefix: 1 234 567 -> 1.23 Mbit/s."""
    if value is None:
        return "—"
    scaled, index = float(value), 0
    while abs(scaled) >= 1000 and index < len(PREFIXES) - 1:
        scaled, index = scaled / 1000, index + 1
    return f"{_round(scaled)} {PREFIXES[index]}bit/s"


def ratio_pct(value: float | None) -> str:
    """A ratio (0..1) as a percentage; two decimals from 10 % up, so 99.95 % never reads as 100 %."""
    if value is None:
        return "—"
    percent = 100 * float(value)
    text = f"{percent:.2f}".rstrip("0").rstrip(".") if abs(percent) >= 10 else _round(percent)
    return f"{text} %"


def number(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{_round(float(value))} {unit}".rstrip()


def duration(seconds: float | None) -> str:
    """The two largest units: 2 d 4 h, 3 h 12 min, 5 min 3 s."""
    if seconds is None:
        return "—"
    left = int(seconds)
    parts: list[str] = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size} {unit}")
            left %= size
    return " ".join(parts[:2])


def size_text(size_bytes: int) -> str:
    """A size in bytes as people read it: B, KiB or MiB."""
    if size_bytes < 2**10:
        return f"{size_bytes} B"
    return f"{size_bytes / 2**20:.3g} MiB" if size_bytes >= 2**20 else f"{size_bytes / 2**10:.3g} KiB"


def objective_value(objective: str, value: float | None) -> str:
    """A breach's measured value or limit in its objective's unit (``sla.breach.Breach``): ms for latency and
    jitter, a ratio for loss and utilisation, bit/s for the committed rate, a multiple for the burn rate;
    availability is 0 (down) against 1 (up)."""
    if value is None:
        return "—"
    if objective in ("latency", "jitter"):
        return number(value, "ms")
    if objective in ("loss", "utilisation"):
        return ratio_pct(value)
    if objective == "committed_rate":
        return bits(value)
    if objective == "availability":
        return "up" if value >= 1 else "down"
    return number(value, "×")
