"""Parks threads at known points, then a reporter thread records what the interpreter itself
says their stacks are (sys._current_frames + traceback) into argv[1] as JSON and prints
"ready". Covers: a method (qualified name), a non-ASCII name, a Python→C→Python call
(sorted() calling a key function), a generator, and a deep recursion."""
import json, sys, threading, time, traceback

park = threading.Event()

def ünïcode_wait():
    park.wait()

class Worker:
    def spin(self):
        ünïcode_wait()

def key_fn(x):
    park.wait()
    return x

def via_c():
    return sorted([1], key=key_fn)

def gen():
    park.wait()
    yield 1

def use_gen():
    return list(gen())

def recurse(n):
    if n == 0:
        park.wait()
        return 0
    return recurse(n - 1) + 1

threads = [
    threading.Thread(target=Worker().spin, name="worker"),
    threading.Thread(target=via_c, name="via-c"),
    threading.Thread(target=use_gen, name="generator"),
    threading.Thread(target=recurse, args=(300,), name="deep"),
]
for t in threads:
    t.daemon = True
    t.start()

def report():
    time.sleep(0.3)  # let every thread reach its parking spot
    frames = sys._current_frames()
    out = {}
    for t in threads:
        stack = traceback.extract_stack(frames[t.ident])
        out[str(t.native_id)] = {"name": t.name, "frames": [[f.filename, f.name, f.lineno] for f in stack]}
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)
    print("ready", flush=True)

def main_sleep():
    time.sleep(1000)

threading.Thread(target=report, daemon=True).start()
main_sleep()
