#!/usr/bin/env python
"""How fast is this machine right now? A fixed pure-Python workload, timed in CPU seconds.

The 2-core VM Kefu is benchmarked on has run the same code 2-3x slower on some days than on
others (bench/RESULTS.md, 2026-12-07). Run this before and after a benchmark and write its
figure next to the results, so figures from different days can be compared:

    .venv/bin/python bench/machine.py [--rounds 5]

It prints the best and median of ``--rounds`` runs of a 10**7-step integer loop (CPU
seconds; lower is faster) and the load average. Best is the machine's speed; a median far
above it means something else is running.
"""

import argparse
import os
import statistics
import time


def loop() -> float:
    began = time.process_time()
    total = 0
    for i in range(10**7):
        total += i
    assert total == 49999995000000
    return time.process_time() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    times = [loop() for _ in range(args.rounds)]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"machine: 10**7-step loop best {min(times):.2f} s, median {statistics.median(times):.2f} s"
        f" CPU ({args.rounds} rounds); load average {load}"
    )


if __name__ == "__main__":
    main()
