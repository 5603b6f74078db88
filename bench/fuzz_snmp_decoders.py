"""Long fuzz run of the SNMP decoders (BER, SNMPv3 envelope, USM authentication and decryption).

Run from the repository root:  .venv/bin/python bench/fuzz_snmp_decoders.py [--examples 200000] [--seed N]

The same hostile inputs as the suite's bounded run (tests/collectors/snmp/fuzzing.py: random datagrams, valid v2c
and v3 answers truncated, bit-flipped, spliced or with lying lengths, TLVs nested 2,000 deep, lengths claiming up to
4 GiB), many more of them. Every decoder may raise only ``BadAnswer``; anything else stops the run with the input
that caused it (hypothesis shrinks it first). It prints the slowest example's decode time and size, the decode time
per KiB at the 99th percentile, and the largest memory peak with its datagram's size (traced on every 50th example).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

from tests.collectors.snmp import fuzzing  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run")
    args = parser.parse_args()
    per_kib_s: list[float] = []
    slowest = (0.0, 0)
    largest_peak = (0, 0)
    count = 0

    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=fuzzing.hostile)
    def run(data: bytes) -> None:
        nonlocal slowest, largest_peak, count
        count += 1
        traced = count % 50 == 0
        if traced:
            tracemalloc.start()
        start = time.perf_counter()
        fuzzing.decode_all(data)
        spent = time.perf_counter() - start
        if traced:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            largest_peak = max(largest_peak, (peak, len(data)))
        per_kib_s.append(spent / max(1.0, len(data) / 1024))
        slowest = max(slowest, (spent, len(data)))

    if args.seed is not None:
        run = seed(args.seed)(run)
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    p99 = statistics.quantiles(per_kib_s, n=100)[98] if len(per_kib_s) >= 100 else max(per_kib_s)
    print(f"{count:,} hostile datagrams in {elapsed:.0f} s: every one a BadAnswer or a clean decode")
    print(f"slowest decode: {slowest[0] * 1e6:.0f} µs for {slowest[1]:,} bytes; p99 {p99 * 1e6:.1f} µs per KiB")
    print(f"largest traced memory peak: {largest_peak[0]:,} bytes (datagram of {largest_peak[1]:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
