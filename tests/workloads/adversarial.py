"""The adversarial workload: alternate hot_a recursing 20 deep then leaf_a, and hot_b
recursing 20 deep then leaf_b. A consistent sampler never sees hot_a with leaf_b, or hot_a and
hot_b frames in one stack. Runs for argv[1] seconds (default forever); argv[2] = 'count' prints
how many iterations it did (for slowdown measurements)."""
import sys, time

def leaf_a():
    x = 0
    for i in range(20):
        x += i
    return x

def leaf_b():
    x = 0
    for i in range(20):
        x += i
    return x

def hot_a(n):
    if n == 0:
        return leaf_a()
    return hot_a(n - 1)

def hot_b(n):
    if n == 0:
        return leaf_b()
    return hot_b(n - 1)

def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1e9
    iterations = int(sys.argv[3]) if len(sys.argv) > 3 else None
    end = time.perf_counter() + secs
    n = 0
    t0 = time.perf_counter()
    while True:
        for _ in range(100):
            hot_a(20)
            hot_b(20)
        n += 100
        if iterations is not None:
            if n >= iterations:
                break
        elif time.perf_counter() > end:
            break
    if len(sys.argv) > 2 and sys.argv[2] == "count":
        print(f"{n} {time.perf_counter() - t0:.6f}", flush=True)

main()
