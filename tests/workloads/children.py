"""A parent that starts child Python processes: one through multiprocessing, one through
subprocess, each burning CPU in a function named after how it was started."""
import multiprocessing, subprocess, sys, time

def mp_child_work():
    end = time.time() + 3
    while time.time() < end:
        pass

def main():
    p = multiprocessing.Process(target=mp_child_work)
    p.start()
    code = "import time\ndef subprocess_child_work():\n    end = time.time() + 3\n    while time.time() < end: pass\nsubprocess_child_work()\n"
    s = subprocess.Popen([sys.executable, "-c", code])
    p.join()
    s.wait()

if __name__ == "__main__":
    main()
