"""Stacks that keep crossing CPython's 16 KiB frame-chunk boundaries (3.11+): hot_a recurses to
a random depth between 50 and 400, then leaf_a works ~50 µs; hot_b the same with leaf_b. A
stack over ~130 frames spans several chunks, and each time it unwinds below one, CPython frees
that chunk and the next growth maps a new one, often elsewhere. Runs for argv[1] seconds
(default forever)."""
import random, sys, time


def leaf_a():
    return sum(range(3000))


def leaf_b():
    return sum(range(3000))


def hot_a(n):
    return hot_a(n - 1) if n else leaf_a()


def hot_b(n):
    return hot_b(n - 1) if n else leaf_b()


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1e9
    end = time.perf_counter() + secs
    r = random.Random(1)
    while time.perf_counter() < end:
        hot_a(r.randint(50, 400))
        hot_b(r.randint(50, 400))


main()
