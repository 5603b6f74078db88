"""The board's attention sound: a short two-note chime, made here as a WAV file (no asset to ship, nothing fetched
from elsewhere). Two rising notes with a soft start and a decay, so it is heard across a room without startling."""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import cache

RATE_HZ = 16_000
NOTES = ((880.0, 0.18), (1318.5, 0.30))  # A5 then E6: (frequency in Hz, seconds)
VOLUME = 0.5  # of full scale
ATTACK_S = 0.01


def _samples(frequency_hz: float, seconds: float) -> list[int]:
    count = int(RATE_HZ * seconds)
    out = []
    for i in range(count):
        t = i / RATE_HZ
        envelope = min(1.0, t / ATTACK_S) * math.exp(-4.0 * t / seconds)
        out.append(round(32767 * VOLUME * envelope * math.sin(2 * math.pi * frequency_hz * t)))
    return out


@cache
def chime_wav() -> bytes:
    """The chime as a 16-bit mono PCM WAV file (about 15 KB)."""
    samples = [s for frequency_hz, seconds in NOTES for s in _samples(frequency_hz, seconds)]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE_HZ)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buffer.getvalue()
