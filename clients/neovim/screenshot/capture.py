"""Runs a real nvim in a pseudo-terminal with the Ember plugin, emulates the terminal (pyte) and
returns what the screen shows; `python capture.py ROOT FILE OUT.svg` also writes it as an SVG.
Used for the README screenshot and by tests/python/test_client_neovim.py, which checks that
Ember's timings are on the screen a user sees."""
import fcntl
import os
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections import Counter
from html import escape
from pathlib import Path

import pyte

PLUGIN = Path(__file__).resolve().parents[1]

INIT = """
vim.opt.rtp:prepend({plugin!r})
vim.o.termguicolors = true
vim.o.number = true
vim.o.laststatus = 2
vim.o.shortmess = vim.o.shortmess .. 'I'
vim.cmd('syntax on')
require('ember').setup({{ path = {ember!r} }})
"""


def capture(nvim, ember, root, file, until, cols=96, rows=22, timeout=30.0):
    """Starts nvim on `file` and returns the pyte screen once `until(lines)` is true."""
    with tempfile.TemporaryDirectory() as home:
        init = Path(home) / "init.lua"
        init.write_text(INIT.format(plugin=str(PLUGIN), ember=str(ember)))
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", XDG_CONFIG_HOME=home, XDG_DATA_HOME=home,
                   XDG_STATE_HOME=home)
        proc = subprocess.Popen([str(nvim), "-u", str(init), "-i", "NONE", "-n", str(file)], cwd=root,
                                stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        screen = pyte.Screen(cols, rows)
        stream = pyte.ByteStream(screen)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.1)
                if ready:
                    try:
                        stream.feed(os.read(master, 65536))
                    except OSError:
                        break
                elif until(screen.display):
                    time.sleep(0.3)  # let the last redraw land
                    while select.select([master], [], [], 0.1)[0]:
                        stream.feed(os.read(master, 65536))
                    return screen
            raise TimeoutError("nvim's screen never matched:\n" + "\n".join(screen.display))
        finally:
            os.write(master, b"\x1b:qa!\r")
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            os.close(master)


PALETTE = {
    "default": "#d4d4d4", "black": "#1e1e1e", "red": "#f14c4c", "green": "#23d18b", "brown": "#e5e510",
    "yellow": "#e5e510", "blue": "#3b8eea", "magenta": "#d670d6", "cyan": "#29b8db", "white": "#e5e5e5",
}


def color(c, default):
    if c == "default":
        return default
    if c in PALETTE:
        return PALETTE[c]
    if len(c) == 6 and all(ch in "0123456789abcdefABCDEF" for ch in c):
        return "#" + c
    return default


def to_svg(screen, char_w=8.4, line_h=17):
    w, h = screen.columns * char_w, screen.lines * line_h
    cells = [screen.buffer[y][x] for y in range(screen.lines) for x in range(screen.columns)]
    canvas = color(Counter(c.bg for c in cells if not c.reverse).most_common(1)[0][0], "#1e1e1e")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h + 8:.0f}" '
           f'font-family="DejaVu Sans Mono, Menlo, monospace" font-size="14">',
           f'<rect width="100%" height="100%" fill="{canvas}"/>']
    for y in range(screen.lines):
        row = screen.buffer[y]
        x = 0
        while x < screen.columns:
            ch = row[x]
            fg, bg = (ch.bg, ch.fg) if ch.reverse else (ch.fg, ch.bg)
            run = [ch.data]
            x2 = x + 1
            while x2 < screen.columns and (row[x2].fg, row[x2].bg, row[x2].reverse, row[x2].bold) == \
                    (ch.fg, ch.bg, ch.reverse, ch.bold):
                run.append(row[x2].data)
                x2 += 1
            bgc = color(bg, canvas)
            if bgc != canvas:
                out.append(f'<rect x="{x * char_w:.1f}" y="{y * line_h + 4}" width="{(x2 - x) * char_w:.1f}" '
                           f'height="{line_h}" fill="{bgc}"/>')
            text = "".join(run)
            if text.strip():
                weight = ' font-weight="bold"' if ch.bold else ""
                out.append(f'<text x="{x * char_w:.1f}" y="{(y + 1) * line_h}" fill="{color(fg, "#d4d4d4")}"'
                           f' xml:space="preserve"{weight}>{escape(text)}</text>')
            x = x2
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    root, file, svg = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    nvim = os.environ.get("NVIM_BIN", "nvim")
    ember = os.environ.get("EMBER_BIN", "ember")
    shown = capture(nvim, ember, root, file, lambda lines: any("%" in l and " s " in l for l in lines))
    svg.write_text(to_svg(shown))
    print("\n".join(shown.display))
