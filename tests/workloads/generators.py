"""Generators and coroutines that call functions while they run, resumed from Python (a for
loop, send) and from C (sum, asyncio's task step). Every frame of `produce`, `crunch` and
`outer` must keep its callers down to <module>: a generator's frame lives outside the thread's
stack and is unlinked from its caller at each yield. Runs for argv[1] seconds (default
forever); prints "ready" first."""
import asyncio, sys, time


def work(i):
    return sum(range(i % 40))


def produce(n):
    for i in range(n):
        yield work(i)


def crunch():
    total = 0
    while True:
        total += yield work(total % 7)


def by_for_loop():
    for _ in produce(200):
        pass


def by_c():
    return sum(produce(200))


def by_send():
    c = crunch()
    next(c)
    for i in range(200):
        c.send(i)


async def inner(i):
    return work(i)


async def outer():
    for i in range(200):
        await inner(i)
        if i % 50 == 0:
            await asyncio.sleep(0)


LOOP = asyncio.new_event_loop()


def by_asyncio():
    LOOP.run_until_complete(outer())


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1e9
    print("ready", flush=True)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        by_for_loop()
        by_c()
        by_send()
        by_asyncio()


main()
