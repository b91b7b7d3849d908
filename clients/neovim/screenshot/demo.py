"""A small program to profile: counts words in generated text."""
import random
import re
from collections import Counter

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon"]


def make_text(n):
    return " ".join(random.choice(WORDS) for _ in range(n))


def tokenize(text):
    return re.findall(r"[a-z]+", text)


def count(tokens):
    counts = Counter()
    for token in tokens:
        counts[token.upper()] += 1
    return counts


def main():
    for _ in range(30):
        counts = count(tokenize(make_text(40_000)))
    print(counts.most_common(3))


main()
