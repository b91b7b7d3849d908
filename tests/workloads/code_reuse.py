"""Frees code objects and makes new ones, which the allocator tends to put at the addresses
just freed: 20 rounds, each compiling a module text with its own function `work_NN`, running it
for argv[1] seconds (default 0.1), then dropping it. A profiler that caches code objects by
address without noticing they changed reports old names for new code."""
import sys, time

TEXT = '''
def work_{n:02d}(secs):
    end = time.perf_counter() + secs
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x

work_{n:02d}(SECS)
'''

def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 0.1
    for n in range(20):
        ns = {"time": time, "SECS": secs}
        # The round's module code runs (and is sampled) too, then dies with its function.
        exec(compile(TEXT.format(n=n), f"<round {n:02d}>", "exec"), ns)
        del ns

main()
