"""The adversarial workload's shape with a C call between every two Python frames: hot_a
recurses 10 deep through map/max then calls leaf_a, hot_b the same with leaf_b (the leaves
return at once: most of the time goes to starting and ending eval loops). Every level
starts and ends an eval loop of its own (3.12+: an entry frame on the C stack), and both phases
use the same C path, so their frames and entry frames sit at the same addresses. Runs for
argv[1] seconds (default forever)."""
import sys, time

def leaf_a():
    return 1

def leaf_b():
    return 2

def hot_a(n):
    if n == 0:
        return leaf_a()
    return max(map(hot_a, (n - 1,)))

def hot_b(n):
    if n == 0:
        return leaf_b()
    return max(map(hot_b, (n - 1,)))

def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1e9
    end = time.perf_counter() + secs
    while time.perf_counter() < end:
        for _ in range(50):
            hot_a(10)
            hot_b(10)

main()
