"""Ember's bundled example: a small program with a few obvious hot spots to find.

  * parse_records: JSON decoding (standard library)
  * slow_fibonacci: a deliberately naive recursion
  * word_counts: string work in a worker thread
  * checksum: a tight arithmetic loop
"""
import json
import sys
import threading
import time


def make_records(n):
    return [json.dumps({"id": i, "name": f"user{i}", "tags": ["a", "b", "c"], "score": i * 0.5}) for i in range(n)]


def parse_records(lines):
    total = 0.0
    for line in lines:
        record = json.loads(line)
        total += record["score"]
    return total


def slow_fibonacci(n):
    if n < 2:
        return n
    return slow_fibonacci(n - 1) + slow_fibonacci(n - 2)


def checksum(data):
    h = 0
    for b in data:
        h = (h * 31 + b) & 0xFFFFFFFF
    return h


def word_counts(text, rounds):
    counts = {}
    for _ in range(rounds):
        for word in text.split():
            counts[word] = counts.get(word, 0) + 1
    return counts


def main(seconds):
    text = "the quick brown fox jumps over the lazy dog " * 200
    worker = threading.Thread(target=word_counts, args=(text, 4000), name="word-counter", daemon=True)
    worker.start()
    lines = make_records(2000)
    end = time.time() + seconds
    while time.time() < end:
        parse_records(lines)
        slow_fibonacci(20)
        checksum(b"ember" * 4000)
    print("demo finished", flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
