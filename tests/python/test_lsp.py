"""`ember lsp` driven as editors drive it (pytest-lsp): inline timings from the workspace's
latest profile, settings, new profiles, edits, commands, and bad input."""

import asyncio
import contextlib
import os
import time
from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

from lsp_support import APP, app_stacks, ember_bin, publish, write_profile

def helix_caps():
    """A client without inlayHint/refresh or codeLens/refresh (Helix 25.x)."""
    return t.ClientCapabilities(
        window=t.WindowClientCapabilities(show_document=t.ShowDocumentClientCapabilities(support=True)),
    )


@contextlib.asynccontextmanager
async def session(root, caps=None, options=None, configuration=None):
    client = make_test_lsp_client()
    client.refreshes = {"inlay": 0, "lens": 0}

    @client.feature(t.WORKSPACE_INLAY_HINT_REFRESH)
    def _inlay_refresh(params):
        client.refreshes["inlay"] += 1

    @client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
    def _lens_refresh(params):
        client.refreshes["lens"] += 1

    if configuration is not None:
        client.set_configuration(configuration, section="ember")
    await client.start_io(ember_bin(), "lsp")
    try:
        await client.initialize_session(
            t.InitializeParams(
                capabilities=caps if caps is not None else client_capabilities("neovim"),
                root_uri=Path(root).as_uri(),
                workspace_folders=[t.WorkspaceFolder(uri=Path(root).as_uri(), name="w")],
                initialization_options=options,
            )
        )
        yield client
        await asyncio.wait_for(client.shutdown_session(), 10)
    except BaseException:
        # A failed test must not hang on a server that is still running.
        if client._server and client._server.returncode is None:
            client._server.kill()
        raise
    finally:
        await asyncio.wait_for(client.stop(), 10)


@pytest.fixture
def workspace(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(APP)
    # The profile was recorded after the file was last written.
    publish(tmp_path, "run-1.ember", app_stacks(str(app)))
    return tmp_path


def open_doc(client, path, text=None):
    uri = Path(path).as_uri()
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(uri=uri, language_id="python", version=1, text=text or Path(path).read_text())
        )
    )
    return uri


async def hints(client, uri, lines=30):
    got = await client.text_document_inlay_hint_async(
        t.InlayHintParams(text_document=t.TextDocumentIdentifier(uri=uri), range=t.Range(t.Position(0, 0), t.Position(lines, 0)))
    )
    return {h.position.line + 1: h.label for h in got or []}


async def eventually(check, timeout=3.0):
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.05)


@pytest.mark.asyncio
async def test_hints_from_the_latest_profile_without_refresh(workspace):
    # Helix: no refresh support, asks once right after initialize.
    async with session(workspace, caps=helix_caps()) as client:
        uri = open_doc(client, workspace / "app.py")
        got = await hints(client, uri)
        assert got == {
            6: "85.0% 85ms",
            7: "15.0% 15ms",
            12: "20.0% 20ms",
            13: "65.0% 65ms",
            18: "60.0% 60ms",
            22: "15.0% 15ms",
        }
        full = await client.text_document_inlay_hint_async(
            t.InlayHintParams(text_document=t.TextDocumentIdentifier(uri=uri), range=t.Range(t.Position(12, 0), t.Position(12, 99)))
        )
        assert len(full) == 1
        assert full[0].position == t.Position(12, len("        total += inner(i)"))
        assert "self 5.00% 5ms" in full[0].tooltip
        assert client.refreshes == {"inlay": 0, "lens": 0}


@pytest.mark.asyncio
async def test_a_recording_left_by_a_killed_ember_is_saved_and_shown(workspace):
    # An editor killed its debug adapter mid-recording: the journal it left in .ember/ (written
    # here from the documented format, in three appends and a torn fourth) becomes the newest
    # profile when the server starts, and its timings show.
    app = str(workspace / "app.py")
    d = workspace / ".ember"
    # It ended after the profile `latest` names was saved (a minute ago).
    os.utime(d / "run-1.ember", (time.time() - 60, time.time() - 60))
    journal = write_profile(d / "20260101T000000Z-app.py.ember.partial", app_stacks(app), journal=[30, 50, 20])
    async with session(workspace) as client:
        uri = open_doc(client, workspace / "app.py")
        said = await eventually(lambda: _true([m.message for m in client.messages if "interrupted" in m.message]))
        assert said and "its 100 samples" in said[0] and "20260101T000000Z-app.py.ember" in said[0], said
        assert not journal.exists()
        assert (d / "latest").read_text().strip() == "20260101T000000Z-app.py.ember"
        assert (await hints(client, uri))[18] == "60.0% 60ms"


@pytest.mark.asyncio
async def test_settings_from_initialization_options(workspace):
    async with session(workspace, options={"threshold": 18, "metric": "self", "units": "samples"}) as client:
        uri = open_doc(client, workspace / "app.py")
        assert await hints(client, uri) == {12: "20.0% 20 samples", 18: "60.0% 60 samples"}


@pytest.mark.asyncio
async def test_settings_from_workspace_configuration(workspace):
    async with session(workspace, configuration={"threshold": 50, "units": "percent"}) as client:
        uri = open_doc(client, workspace / "app.py")
        want = {6: "85.0%", 13: "65.0%", 18: "60.0%"}
        assert await eventually(lambda: _equal(hints(client, uri), want)), await hints(client, uri)


@pytest.mark.asyncio
async def test_a_bad_setting_is_reported_once_and_the_rest_apply(workspace):
    # The same bad value arrives twice: in initializationOptions, then from workspace/configuration.
    bad = {"threshold": "lots", "units": "percent"}
    async with session(workspace, options=bad, configuration=bad) as client:
        uri = open_doc(client, workspace / "app.py")
        # `units` applied although `threshold` was refused: every hint is a bare share.
        async def percent_only():
            h = await hints(client, uri)
            return bool(h) and all(v.endswith("%") and " " not in v for v in h.values())
        assert await eventually(percent_only), await hints(client, uri)
        client.workspace_did_change_configuration(t.DidChangeConfigurationParams(settings=None))
        await hints(client, uri)
        await asyncio.sleep(0.3)
        said = [m.message for m in client.messages if "threshold" in m.message]
        assert len(said) == 1 and "expected a percentage between 0 and 100" in said[0], said


async def _equal(coro, want):
    return await coro == want


@pytest.mark.asyncio
async def test_code_lenses_above_sampled_functions(workspace):
    async with session(workspace) as client:
        uri = open_doc(client, workspace / "app.py")
        lenses = await client.text_document_code_lens_async(t.CodeLensParams(text_document=t.TextDocumentIdentifier(uri=uri)))
        titles = {lens.range.start.line + 1: lens.command.title for lens in lenses}
        assert titles == {
            4: "100.0% total · 0.0% self · 0 callers",
            10: "85.0% total · 25.0% self · 1 caller",
            17: "60.0% total · 60.0% self · 1 caller",
            21: "15.0% total · 15.0% self · 1 caller",
        }
        assert all(lens.command.command == "ember.openFlamegraph" for lens in lenses)
        work = next(lens for lens in lenses if lens.range.start.line == 9)
        assert work.command.arguments[0]["name"] == "work"


@pytest.mark.asyncio
async def test_hover_shows_the_top_call_stacks(workspace):
    async with session(workspace) as client:
        uri = open_doc(client, workspace / "app.py")
        h = await client.text_document_hover_async(t.HoverParams(text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(12, 4)))
        text = h.contents.value
        assert "line 13: total 65.0% 65ms · self 5.00% 5ms" in text
        assert "100.0% — `main → work (app.py:13)`" in text
        assert "_profile: run-1.ember_" in text
        # On a def line: the function's callers.
        h = await client.text_document_hover_async(t.HoverParams(text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(9, 4)))
        assert "`work`: total 85.0% 85ms" in h.contents.value
        # A line with no samples has no hover.
        h = await client.text_document_hover_async(t.HoverParams(text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(0, 0)))
        assert h is None


@pytest.mark.asyncio
async def test_hover_lists_five_stacks_and_counts_the_others(tmp_path):
    lib = str(tmp_path / "lib.py")
    (tmp_path / "lib.py").write_text("def hot():\n    pass\n")
    callers = str(tmp_path / "callers.py")
    stacks = [([(callers, f"caller{i}", 10 * i + 1, 10 * i + 2), (lib, "hot", 1, 2)], 10 + i) for i in range(8)]
    publish(tmp_path, "p.ember", stacks)
    async with session(tmp_path) as client:
        uri = open_doc(client, tmp_path / "lib.py")
        h = await client.text_document_hover_async(t.HoverParams(text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(1, 2)))
        text = h.contents.value
        assert text.count("— `caller") == 5
        assert "caller7 → hot" in text and "caller0 → hot" not in text
        assert "…and 3 other stacks" in text


@pytest.mark.asyncio
async def test_a_new_profile_is_loaded_within_a_second_and_refreshes(workspace):
    async with session(workspace) as client:
        uri = open_doc(client, workspace / "app.py")
        assert (await hints(client, uri))[18] == "60.0% 60ms"
        app = str(workspace / "app.py")
        started = time.monotonic()
        publish(workspace, "run-2.ember", [([(app, "inner", 17, 18)], 10), ([(app, "helper", 21, 22)], 30)])

        async def changed():
            return (await hints(client, uri)) == {18: "25.0% 10ms", 22: "75.0% 30ms"}

        assert await eventually(changed, timeout=3), await hints(client, uri)
        assert time.monotonic() - started < 1.5
        # Neovim 0.11 advertises inlayHint/refresh but not codeLens/refresh.
        assert await eventually(lambda: _true(client.refreshes["inlay"] >= 1))
        assert client.refreshes["lens"] == 0


@pytest.mark.asyncio
async def test_both_refreshes_for_a_client_that_supports_them(workspace):
    caps = t.ClientCapabilities(
        workspace=t.WorkspaceClientCapabilities(
            inlay_hint=t.InlayHintWorkspaceClientCapabilities(refresh_support=True),
            code_lens=t.CodeLensWorkspaceClientCapabilities(refresh_support=True),
        )
    )
    async with session(workspace, caps=caps) as client:
        open_doc(client, workspace / "app.py")
        app = str(workspace / "app.py")
        publish(workspace, "run-2.ember", [([(app, "helper", 21, 22)], 4)])
        assert await eventually(lambda: _true(client.refreshes["inlay"] >= 1 and client.refreshes["lens"] >= 1))


async def _true(v):
    return v


@pytest.mark.asyncio
async def test_a_helix_like_client_gets_fresh_hints_on_its_next_request(workspace):
    async with session(workspace, caps=helix_caps()) as client:
        uri = open_doc(client, workspace / "app.py")
        app = str(workspace / "app.py")
        publish(workspace, "run-2.ember", [([(app, "helper", 21, 22)], 4)])
        assert await eventually(lambda: _equal(hints(client, uri), {22: "100.0% 4ms"}))
        assert client.refreshes == {"inlay": 0, "lens": 0}
        assert not [m for m in client.messages if m.type == t.MessageType.Error]


@pytest.mark.asyncio
async def test_edits_move_hints_and_drop_edited_lines(workspace):
    async with session(workspace) as client:
        uri = open_doc(client, workspace / "app.py")

        def change(sl, sc, el, ec, text, version):
            client.text_document_did_change(
                t.DidChangeTextDocumentParams(
                    text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[t.TextDocumentContentChangePartial(range=t.Range(t.Position(sl, sc), t.Position(el, ec)), text=text)],
                )
            )

        # Two new lines at the top: every hint moves down by two.
        change(0, 0, 0, 0, "# one\n# two\n", 2)
        got = await hints(client, uri, 40)
        assert got[8] == "85.0% 85ms" and got[20] == "60.0% 60ms" and 6 not in got
        # Typing inside the line that was 13 (now 15): it loses its hint; the others stay.
        change(14, 8, 14, 8, "x = 1; ", 3)
        got = await hints(client, uri, 40)
        assert 15 not in got and got[14] == "20.0% 20ms"
        lenses = await client.text_document_code_lens_async(t.CodeLensParams(text_document=t.TextDocumentIdentifier(uri=uri)))
        assert sorted(lens.range.start.line + 1 for lens in lenses) == [6, 12, 19, 23]


@pytest.mark.asyncio
async def test_a_file_changed_since_the_recording_is_reported(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(APP)
    publish(tmp_path, "old.ember", app_stacks(str(app)), start_unix_ms=int(time.time() * 1000) - 3_600_000)
    async with session(tmp_path) as client:
        uri = open_doc(client, app)
        msgs = await eventually(lambda: _true([m for m in client.messages if "changed on disk" in m.message]))
        assert msgs and msgs[0].type == t.MessageType.Warning
        lenses = await client.text_document_code_lens_async(t.CodeLensParams(text_document=t.TextDocumentIdentifier(uri=uri)))
        assert all("file changed since recording" in lens.command.title for lens in lenses)


@pytest.mark.asyncio
async def test_commands(workspace):
    async with session(workspace) as client:
        uri = open_doc(client, workspace / "app.py")
        r = await client.workspace_execute_command_async(t.ExecuteCommandParams(command="ember.toggleInline"))
        assert r == {"inline": False}
        assert await hints(client, uri) == {}
        assert not await client.text_document_code_lens_async(t.CodeLensParams(text_document=t.TextDocumentIdentifier(uri=uri)))
        r = await client.workspace_execute_command_async(t.ExecuteCommandParams(command="ember.toggleInline"))
        assert r == {"inline": True}
        other = workspace / "elsewhere.ember"
        app = str(workspace / "app.py")
        write_profile(other, [([(app, "main", 4, 7)], 3)])
        r = await client.workspace_execute_command_async(t.ExecuteCommandParams(command="ember.loadProfile", arguments=[str(other)]))
        assert r["samples"] == 3
        assert await hints(client, uri) == {7: "100.0% 3ms"}
        # Activity in .ember/ that is not a new recording keeps the profile loaded by command.
        (workspace / ".ember" / "scratch.tmp").write_text("x")
        await asyncio.sleep(0.5)
        assert await hints(client, uri) == {7: "100.0% 3ms"}
        r = await client.workspace_execute_command_async(t.ExecuteCommandParams(command="ember.clearFocus"))
        assert r == {"focus": None}
        with pytest.raises(Exception, match="unknown command"):
            await client.workspace_execute_command_async(t.ExecuteCommandParams(command="ember.nope"))
        with pytest.raises(Exception, match="needs the profile's path"):
            await client.workspace_execute_command_async(t.ExecuteCommandParams(command="ember.loadProfile"))
        with pytest.raises(Exception, match="cannot open the profile"):
            await client.workspace_execute_command_async(
                t.ExecuteCommandParams(command="ember.loadProfile", arguments=[str(workspace / "missing.ember")])
            )
        # The failed load left the loaded profile in place.
        assert await hints(client, uri) == {7: "100.0% 3ms"}


@pytest.mark.asyncio
async def test_diagnostics_are_opt_in(workspace):
    async with session(workspace, options={"diagnostics": True, "diagnosticsCount": 2}) as client:
        uri = open_doc(client, workspace / "app.py")
        await eventually(lambda: _true(client.diagnostics.get(uri)))
        diags = client.diagnostics[uri]
        assert [d.range.start.line + 1 for d in diags] == [6, 13]
        assert all(d.severity == t.DiagnosticSeverity.Hint for d in diags)
    async with session(workspace) as client:
        uri = open_doc(client, workspace / "app.py")
        await hints(client, uri)
        assert uri not in client.diagnostics


@pytest.mark.asyncio
async def test_bad_input_gives_errors_not_crashes(workspace):
    async with session(workspace) as client:
        uri = open_doc(client, workspace / "app.py")
        # Unknown files and non-file URIs: no hints, no error.
        other = workspace / "other.py"
        other.write_text("x = 1\n")
        assert await hints(client, open_doc(client, other)) == {}
        assert await hints(client, "untitled:Untitled-1") == {}
        # A corrupt new profile: reported, the previous one stays.
        d = workspace / ".ember"
        (d / "bad.ember").write_bytes(b"\x1f\x8b\x08garbage")
        (d / "latest").write_text("bad.ember\n")
        msgs = await eventually(lambda: _true([m for m in client.messages if "could not load" in m.message]))
        assert msgs and msgs[0].type == t.MessageType.Error
        assert (await hints(client, uri))[18] == "60.0% 60ms"
        # The loaded profile's file vanishing changes nothing already loaded.
        for f in d.iterdir():
            f.unlink()
        await asyncio.sleep(0.3)
        assert (await hints(client, uri))[18] == "60.0% 60ms"


@pytest.mark.asyncio
async def test_a_corrupt_latest_profile_at_startup(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    d = tmp_path / ".ember"
    d.mkdir()
    (d / "x.ember").write_text("{not json")
    (d / "latest").write_text("x.ember\n")
    async with session(tmp_path) as client:
        uri = open_doc(client, tmp_path / "app.py")
        assert await hints(client, uri) == {}
        msgs = await eventually(lambda: _true([m for m in client.messages if "could not load the latest profile" in m.message]))
        assert msgs
        # Then a good one arrives.
        publish(tmp_path, "good.ember", app_stacks(str(tmp_path / "app.py")))
        got = await eventually(lambda: hints(client, uri))
        assert got.get(18) == "60.0% 60ms"


@pytest.mark.asyncio
async def test_no_ember_folder_yet_then_one_appears(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    async with session(tmp_path) as client:
        uri = open_doc(client, tmp_path / "app.py")
        assert await hints(client, uri) == {}
        publish(tmp_path, "first.ember", app_stacks(str(tmp_path / "app.py")))
        got = await eventually(lambda: hints(client, uri))
        assert got.get(6) == "85.0% 85ms"


def test_malformed_messages_get_errors_and_the_server_goes_on(workspace):
    """Raw JSON-RPC (a typed client cannot send broken params)."""
    import json
    import subprocess

    p = subprocess.Popen([ember_bin(), "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(msg):
        body = json.dumps(msg).encode()
        p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        p.stdin.flush()

    def recv():
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                header += p.stdout.read(1)
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            msg = json.loads(p.stdout.read(length))
            if "id" in msg and "method" not in msg:
                return msg

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}})
        assert "capabilities" in recv()["result"]
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send({"jsonrpc": "2.0", "id": 2, "method": "textDocument/inlayHint", "params": {"textDocument": 42}})
        err = recv()
        assert err["id"] == 2 and err["error"]["code"] == -32602
        send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": "nope"}})
        send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": None})
        send({"jsonrpc": "2.0", "id": 3, "method": "ember/nonsense", "params": {}})
        assert recv()["error"]["code"] == -32601
        uri = (workspace / "app.py").as_uri()
        rng = {"start": {"line": 0, "character": 0}, "end": {"line": 30, "character": 0}}
        send({"jsonrpc": "2.0", "id": 4, "method": "textDocument/inlayHint", "params": {"textDocument": {"uri": uri}, "range": rng}})
        got = recv()
        assert got["id"] == 4 and len(got["result"]) == 6
        send({"jsonrpc": "2.0", "id": 5, "method": "shutdown"})
        assert recv()["id"] == 5
        send({"jsonrpc": "2.0", "method": "exit"})
        assert p.wait(timeout=5) == 0
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        for f in (p.stdin, p.stdout, p.stderr):
            f.close()


def _post(url, body):
    import json
    import urllib.request

    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


async def _flamegraph_url(client):
    msgs = await eventually(lambda: _true([m for m in client.log_messages if "flamegraph at" in m.message]), timeout=5)
    assert msgs, "the server did not report its flamegraph URL"
    return msgs[0].message.split("flamegraph at ", 1)[1].strip()


@pytest.mark.asyncio
async def test_the_flamegraph_page_is_linked_both_ways(workspace):
    import urllib.parse
    import urllib.request

    async with session(workspace) as client:
        uri = open_doc(client, workspace / "app.py")
        url = await _flamegraph_url(client)
        assert url.startswith("http://127.0.0.1:") and "token=" in url
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.status == 200
        api = url.replace("/?", "/api/event?")

        # Focusing a function in the page filters the inline hints to its calls (shares of the focus).
        inlay_before = client.refreshes["inlay"]
        assert _post(api, {"type": "focus", "function": 1}) in (200, 204)  # `work`
        focused = {12: "23.5% 20ms", 13: "76.5% 65ms", 18: "70.6% 60ms"}
        assert await eventually(lambda: _equal(hints(client, uri), focused)), await hints(client, uri)
        assert await eventually(lambda: _true(client.refreshes["inlay"] > inlay_before))
        h = await client.text_document_hover_async(t.HoverParams(text_document=t.TextDocumentIdentifier(uri=uri), position=t.Position(12, 4)))
        assert "flamegraph's focus" in h.contents.value
        # Zooming to a call path (functions root first): main → helper.
        assert _post(api, {"type": "focus", "path": [0, 3]}) in (200, 204)
        assert await eventually(lambda: _equal(hints(client, uri), {22: "100.0% 15ms"}))
        # Back to the whole profile from the page, then from the editor's command.
        assert _post(api, {"type": "focus"}) in (200, 204)
        assert await eventually(lambda: _equal(hints(client, uri), _ALL))
        assert _post(api, {"type": "focus", "function": 1}) in (200, 204)
        assert await eventually(lambda: _equal(hints(client, uri), focused))
        await client.workspace_execute_command_async(t.ExecuteCommandParams(command="ember.clearFocus"))
        assert await hints(client, uri) == _ALL

        # Ctrl/Cmd-click on a frame: the editor is asked to show that line.
        assert _post(api, {"type": "open", "file": str(workspace / "app.py"), "line": 13}) in (200, 204)
        shown = await eventually(lambda: _true([d for d in client.shown_documents if d.uri == uri]))
        assert shown and shown[0].selection.start.line == 12 and shown[0].take_focus

        # A code lens opens the page on its function, as an external document.
        lenses = await client.text_document_code_lens_async(t.CodeLensParams(text_document=t.TextDocumentIdentifier(uri=uri)))
        work = next(lens for lens in lenses if lens.range.start.line == 9)
        r = await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command=work.command.command, arguments=work.command.arguments)
        )
        query = urllib.parse.parse_qs(urllib.parse.urlparse(r["url"]).query)
        assert query["function"] == ["work"] and query["file"] == [str(workspace / "app.py")]
        ext = await eventually(lambda: _true([d for d in client.shown_documents if d.external]))
        assert ext and ext[0].uri == r["url"]


_ALL = {6: "85.0% 85ms", 7: "15.0% 15ms", 12: "20.0% 20ms", 13: "65.0% 65ms", 18: "60.0% 60ms", 22: "15.0% 15ms"}


def test_open_flamegraph_sent_with_initialized_waits_for_the_page_server(workspace):
    # The page server starts on `initialized`; an editor's start-up script (or a quick user) may
    # ask for the page in the same breath. Seen failing in Neovim with "it is starting". Raw
    # stdio, so that both messages arrive in one write.
    import json
    import subprocess

    def frame(msg):
        body = json.dumps(msg).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    def read(out):
        length = None
        while True:
            line = out.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(out.read(length))

    def response(out, id):
        while True:
            msg = read(out)
            if msg.get("id") == id and "method" not in msg:
                return msg

    proc = subprocess.Popen([ember_bin(), "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=workspace)
    try:
        proc.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                "params": {"processId": None, "rootUri": Path(workspace).as_uri(), "capabilities": {}}}))
        proc.stdin.flush()
        assert "capabilities" in response(proc.stdout, 1)["result"]
        proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
                         + frame({"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand",
                                  "params": {"command": "ember.openFlamegraph", "arguments": []}}))
        proc.stdin.flush()
        r = response(proc.stdout, 2)
        assert "error" not in r, r
        assert r["result"]["url"].startswith("http://127.0.0.1:") and "token=" in r["result"]["url"]
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.asyncio
async def test_a_client_without_show_document_gets_the_url_as_a_message(workspace):
    async with session(workspace, caps=t.ClientCapabilities()) as client:
        await _flamegraph_url(client)
        r = await client.workspace_execute_command_async(t.ExecuteCommandParams(command="ember.openFlamegraph"))
        assert r["url"].startswith("http://127.0.0.1:")
        assert await eventually(lambda: _true(any(r["url"] in m.message for m in client.messages)))
        assert client.shown_documents == []


@pytest.mark.asyncio
async def test_a_profile_that_does_not_fit_the_file_is_reported_without_timestamps(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(APP)
    # A profile with no start time (converted from another format) whose line 3 is blank here.
    publish(tmp_path, "conv.ember", [([(str(app), "main", 4, 3)], 5), ([(str(app), "main", 4, 6)], 5)], start_unix_ms=0)
    async with session(tmp_path) as client:
        open_doc(client, app)
        msgs = await eventually(lambda: _true([m for m in client.messages if "does not match the profile" in m.message]))
        assert msgs and msgs[0].type == t.MessageType.Warning
    # The matching profile of the same file gets no such warning.
    good = tmp_path / "good"
    good.mkdir()
    (good / "app.py").write_text(APP)
    publish(good, "ok.ember", app_stacks(str(good / "app.py")), start_unix_ms=0)
    async with session(good) as client:
        uri = open_doc(client, good / "app.py")
        await hints(client, uri)
        assert not [m for m in client.messages if "match" in m.message or "changed" in m.message]


def test_stdio_that_is_not_a_pipe(tmp_path):
    """Files as stdin/stdout (not pipes): the server still answers and exits cleanly."""
    import json
    import subprocess

    def frame(msg):
        body = json.dumps(msg).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    msgs = tmp_path / "in.bin"
    msgs.write_bytes(
        frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
        + frame({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        + frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        + frame({"jsonrpc": "2.0", "method": "exit"})
    )
    out = tmp_path / "out.bin"
    with open(msgs, "rb") as stdin, open(out, "wb") as stdout:
        rc = subprocess.run([ember_bin(), "lsp"], stdin=stdin, stdout=stdout, stderr=subprocess.DEVNULL, timeout=20).returncode
    assert rc == 0
    text = out.read_bytes().decode()
    assert '"inlayHintProvider":true' in text and '"id":2' in text
