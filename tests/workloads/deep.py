"""A recursion argv[1] frames deep (default 900) that spins in its innermost call: on 3.11+
its frames fill several of the thread's 16 KiB frame chunks. Prints "ready" once at the bottom."""
import sys

sys.setrecursionlimit(10_000)


def rec(n):
    if n == 0:
        print("ready", flush=True)
        x = 0
        while True:
            x += 1
    return rec(n - 1)


rec(int(sys.argv[1]) if len(sys.argv) > 1 else 900)
