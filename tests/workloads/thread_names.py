"""Threads whose Python names the sampler must find: long and non-ASCII, a pool, one whose
instance dict was materialised, one renamed after it started, one started without threading."""
import _thread, sys, threading, time
from concurrent.futures import ThreadPoolExecutor

stop = threading.Event()

def wait():
    stop.wait()

threading.Thread(target=wait, name="a-long-worker-name-ünïcode", daemon=True).start()
with_dict = threading.Thread(target=wait, name="with-dict", daemon=True)
with_dict.__dict__["extra"] = 1  # gives the instance a dict object of its own
with_dict.start()
renamed = threading.Thread(target=wait, name="before-rename", daemon=True)
renamed.start()
pool = ThreadPoolExecutor(max_workers=12, thread_name_prefix="pool")
for _ in range(12):
    pool.submit(time.sleep, 30)
_thread.start_new_thread(stop.wait, ())
time.sleep(0.3)
print("ready", flush=True)
time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 0.5)
renamed.name = "after-rename"
time.sleep(1000)
