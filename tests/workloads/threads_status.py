"""One thread burns CPU holding the GIL, one sleeps (idle, no GIL)."""
import threading, time

def busy():
    x = 0
    while True:
        x += 1

def sleeper():
    while True:
        time.sleep(0.5)

threading.Thread(target=busy, name="busy", daemon=True).start()
threading.Thread(target=sleeper, name="sleeper", daemon=True).start()
print("ready", flush=True)
time.sleep(float(__import__("sys").argv[1]) if len(__import__("sys").argv) > 1 else 1000)
