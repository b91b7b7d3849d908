"""A target with known stacks: threads parked at known lines, a non-ASCII function name,
and a Python→C→Python call (sorted() calling a key function)."""
import sys, threading, time

def ünïcode_wait(ev):
    ev.wait()  # LINE_UNICODE

def key_fn(x):
    time.sleep(1000)  # LINE_KEY
    return x

def via_c():
    return sorted([1], key=key_fn)  # LINE_VIA_C

class Worker:
    def spin(self, ev):
        ünïcode_wait(ev)  # LINE_SPIN

ev = threading.Event()
t = threading.Thread(target=Worker().spin, args=(ev,), name="worker-1")
t.start()
t2 = threading.Thread(target=via_c, name="via-c", daemon=True)
t2.start()
print("ready", flush=True)
def main():
    while True:
        time.sleep(0.01)  # LINE_MAIN
main()
