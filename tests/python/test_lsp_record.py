"""End to end with the real sampler: a program recorded by `ember record` into the workspace's
`.ember/` shows up inline in the language server, including a recording made while it runs."""

import asyncio
import subprocess
import sys

import pytest
from lsprotocol import types as t

from lsp_support import ember_bin
from test_lsp import hints, open_doc, session

WORK = '''\
import time


def spin(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def main():
    end = time.time() + 1.0
    while time.time() < end:
        spin(20000)


main()
'''


def record(root):
    (root / ".ember").mkdir(exist_ok=True)
    proc = subprocess.run(
        [ember_bin(), "record", "-o", str(root / ".ember" / "run.ember"), "--", sys.executable, "work.py"],
        cwd=root, capture_output=True, text=True, timeout=60,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot record here: {proc.stderr.strip()}")


def share(label):
    return float(label.split("%")[0])


@pytest.mark.asyncio
async def test_a_recording_made_while_the_server_runs_shows_inline(tmp_path):
    (tmp_path / "work.py").write_text(WORK)
    async with session(tmp_path) as client:
        uri = open_doc(client, tmp_path / "work.py")
        assert await hints(client, uri) == {}
        await asyncio.get_running_loop().run_in_executor(None, record, tmp_path)
        got = {}
        for _ in range(60):
            got = await hints(client, uri)
            if got:
                break
            await asyncio.sleep(0.05)
        # The loop body and the call in main carry most of the time; the imports none.
        assert share(got[7]) > 20 and share(got[14]) > 50, got
        assert not any(line in got for line in (1, 2, 3, 4, 11))
        lenses = await client.text_document_code_lens_async(t.CodeLensParams(text_document=t.TextDocumentIdentifier(uri=uri)))
        titles = {lens.range.start.line + 1: lens.command.title for lens in lenses}
        assert titles[4].endswith("1 caller") and share(titles[4]) > 50, titles
