"""A little of everything a real program does: properties and __getattr__, recursion through
a C function (sorted with a Python key), exceptions, asyncio with gather, comprehensions with
lambdas, lru_cache, generator expressions consumed by C (sum). Runs for argv[1] seconds
(default forever); prints "ready" first."""
import asyncio, functools, sys, time


class P:
    def __init__(self, n):
        self.n = n

    @property
    def val(self):
        return sum(range(self.n))

    def __getattr__(self, name):
        return len(name) * self.n


def through_c(n):
    if n == 0:
        return sum(P(i).val for i in range(30))
    return sorted([3, 1, 2], key=lambda x: through_c(n - 1) + x)[0]


def exc(n):
    try:
        raise ValueError(n)
    except ValueError as e:
        return P(5).missing + e.args[0]


async def leaf(i):
    return sum(range(i % 50))


async def mid(i):
    if i % 20 == 0:
        await asyncio.sleep(0)
    return await leaf(i)


async def top(k):
    t = 0
    for i in range(100):
        t += await mid(i)
    return t


async def amain():
    await asyncio.gather(*(top(k) for k in range(5)))


def comp(n):
    return [x * y for x in range(n) for y in (lambda z: range(z))(3)]


@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main():
    loop = asyncio.new_event_loop()
    end = time.time() + (float(sys.argv[1]) if len(sys.argv) > 1 else 1e9)
    print("ready", flush=True)
    while time.time() < end:
        through_c(6)
        for i in range(50):
            exc(i)
        loop.run_until_complete(amain())
        comp(200)
        fib.cache_clear()
        fib(200)


main()
