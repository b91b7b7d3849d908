//! The web server over real HTTP: token, Host and source-file rules, the profile download,
//! live progress over SSE, and page events reaching the editor side.

#[path = "support/web_profiles.rs"]
mod web_profiles;

use ember::live::SharedProfile;
use ember::profile::{FLAG_RUNNING, NO_PARENT};
use ember::web::{Focus, PageEvent, Served, WebOptions, WebServer};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

struct Resp {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

/// One HTTP/1.1 request with exactly the headers given (so tests control Host).
fn request(port: u16, method: &str, target: &str, host: &str, extra: &str, body: &str) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let headers = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = headers.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if headers.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Resp { status, headers, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 4 + n..];
    }
}

fn get(port: u16, target: &str) -> Resp {
    request(port, "GET", target, &format!("127.0.0.1:{port}"), "", "")
}

fn token(url: &str) -> String {
    url.split("token=").nth(1).unwrap().to_string()
}

async fn start_demo(root: &std::path::Path) -> (WebServer, SharedProfile, tokio::sync::watch::Sender<ember::live::Progress>) {
    let (shared, tx) = SharedProfile::fixed(web_profiles::demo());
    let server = WebServer::start_many(
        WebOptions { port: 0 },
        vec![Served { name: "demo".into(), shared: shared.clone() }],
        Some(root.to_path_buf()),
    )
    .await
    .unwrap();
    (server, shared, tx)
}

fn header_json(body: &[u8]) -> serde_json::Value {
    let n = u32::from_le_bytes(body[..4].try_into().unwrap()) as usize;
    serde_json::from_slice(&body[4..4 + n]).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn token_and_host_are_required() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _shared, _tx) = start_demo(dir.path()).await;
    let port = server.port;
    assert!(server.url.starts_with(&format!("http://127.0.0.1:{port}/?token=")), "{}", server.url);
    assert_eq!(
        server.url_for_function("/a b/x.py", "f&g", true),
        format!("{}&file=/a%20b/x.py&function=f%26g&view=sandwich", server.url)
    );
    let t = token(&server.url);
    tokio::task::spawn_blocking(move || {
        assert_eq!(get(port, "/").status, 403, "no token");
        assert_eq!(get(port, "/api/profile").status, 403, "no token on the API");
        assert_eq!(get(port, "/?token=0000").status, 403, "wrong token");
        assert_eq!(get(port, &format!("/?token={}", &t[..31])).status, 403, "prefix of the token");
        let ok = get(port, &format!("/?token={t}"));
        assert_eq!(ok.status, 200);
        assert!(String::from_utf8_lossy(&ok.body).contains("/assets/app.js"), "the page");
        let lower = ok.headers.to_ascii_lowercase();
        assert!(lower.contains("content-security-policy: default-src 'self'"), "{}", ok.headers);
        assert!(lower.contains("referrer-policy: no-referrer"));
        let cookie = ok.headers.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie:")).unwrap();
        let cookie = cookie.split_once(':').unwrap().1.split(';').next().unwrap().trim().to_string();
        // The page's module imports carry the cookie instead of the query.
        let js = request(port, "GET", "/assets/app.js", &format!("127.0.0.1:{port}"), &format!("Cookie: {cookie}\r\n"), "");
        assert_eq!(js.status, 200);
        assert_eq!(get(port, "/assets/app.js").status, 403, "assets without token or cookie");
        // DNS rebinding: right token, foreign Host.
        for host in ["evil.example", &format!("evil.example:{port}"), "127.0.0.1", &format!("127.0.0.1:{}", port.wrapping_add(1)), "192.168.1.5:80"] {
            let r = request(port, "GET", &format!("/?token={t}"), host, "", "");
            assert_eq!(r.status, 403, "Host {host}");
        }
        for host in [format!("localhost:{port}"), format!("[::1]:{port}")] {
            assert_eq!(request(port, "GET", &format!("/?token={t}"), &host, "", "").status, 200, "Host {host}");
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn only_profiled_sources_can_be_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), web_profiles::DEMO_APP_PY).unwrap();
    std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
    let (server, _shared, _tx) = start_demo(dir.path()).await;
    let (port, t) = (server.port, token(&server.url));
    tokio::task::spawn_blocking(move || {
        let r = get(port, &format!("/api/source?token={t}&file=app.py"));
        assert_eq!(r.status, 200);
        assert_eq!(String::from_utf8_lossy(&r.body), web_profiles::DEMO_APP_PY);
        for bad in ["secret.txt", "/etc/passwd", "../app.py", "./app.py", "%2Fetc%2Fpasswd"] {
            assert_eq!(get(port, &format!("/api/source?token={t}&file={bad}")).status, 403, "{bad}");
        }
        // In the profile but not on disk: a clear 404.
        let missing = get(port, &format!("/api/source?token={t}&file=%3Cstring%3E"));
        assert_eq!(missing.status, 404);
        assert!(String::from_utf8_lossy(&missing.body).contains("cannot read <string>"));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_download_is_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let (server, shared, _tx) = start_demo(dir.path()).await;
    let (port, t) = (server.port, token(&server.url));
    let shared2 = shared.clone();
    tokio::task::spawn_blocking(move || {
        let r = get(port, &format!("/api/profile?token={t}"));
        assert_eq!(r.status, 200);
        let h = header_json(&r.body);
        assert_eq!(h["arrays"]["sample_stack"]["len"], 1600);
        assert_eq!(h["functions"].as_array().unwrap().len(), 7);
        // origins: main is project (0), parse stdlib (1), fetch site-packages (2), helper other (3)
        let origin = |name: &str| {
            let strings = h["strings"].as_array().unwrap();
            h["functions"].as_array().unwrap().iter().find(|f| strings[f[1].as_u64().unwrap() as usize] == name).unwrap()[3].as_u64().unwrap()
        };
        assert_eq!((origin("main"), origin("parse"), origin("fetch"), origin("helper")), (0, 1, 2, 3));
        assert_eq!(h["threads"][0]["name"], "MainThread");
        {
            let mut p = shared2.profile.write().unwrap();
            let s = p.intern_stack(NO_PARENT, 0);
            p.push_sample(4_000_000_000, 0, s, FLAG_RUNNING);
        }
        let more = get(port, &format!("/api/profile?token={t}&samples=1600&stacks=100&strings=100&functions=7&frames=100"));
        let h = header_json(&more.body);
        assert_eq!(h["reset"], true, "asking past the end resets");
        let p = shared2.profile.read().unwrap();
        let q = format!("/api/profile?token={t}&samples=1600&stacks={}&strings={}&functions=7&frames={}", p.stacks.len(), p.strings.len(), p.frames.len());
        drop(p);
        let h = header_json(&get(port, &q).body);
        assert_eq!(h["reset"], false);
        assert_eq!(h["arrays"]["sample_stack"]["len"], 1, "only the new sample");
        assert_eq!(h["base"]["samples"], 1600);
        assert_eq!(h["strings"].as_array().unwrap().len(), 0);
        // Garbage is a 400 that says what is expected, not a guess or a 404 with a huge number.
        let bad = get(port, &format!("/api/profile?token={t}&p=-1"));
        assert_eq!(bad.status, 400);
        assert_eq!(String::from_utf8_lossy(&bad.body), "no profile \"-1\": `p` is a profile index, 0 to 0\n");
        assert_eq!(get(port, &format!("/api/profile?token={t}&p=1")).status, 404);
        let bad = get(port, &format!("/api/profile?token={t}&samples=lots"));
        assert_eq!(bad.status, 400);
        assert!(String::from_utf8_lossy(&bad.body).contains("`samples` must be a count"));
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn live_progress_over_sse() {
    let dir = tempfile::tempdir().unwrap();
    let (server, shared, tx) = start_demo(dir.path()).await;
    let (port, t) = (server.port, token(&server.url));
    let reader = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "GET /api/live?token={t} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").unwrap();
        let mut r = BufReader::new(s);
        let mut datas = Vec::new();
        let mut line = String::new();
        while datas.len() < 2 {
            line.clear();
            r.read_line(&mut line).unwrap();
            if let Some(d) = line.trim().strip_prefix("data: ") {
                datas.push(serde_json::from_str::<serde_json::Value>(d).unwrap());
            }
        }
        datas
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    {
        let mut p = shared.profile.write().unwrap();
        p.push_sample(1, 0, 0, 0);
    }
    tx.send_modify(|p| {
        p.samples = 1601;
        p.rate = 250.0;
        p.generation += 1;
        p.finished = false;
    });
    let datas = reader.await.unwrap();
    assert_eq!(datas[0]["samples"], 1600);
    assert_eq!(datas[0]["finished"], true);
    assert_eq!(datas[1]["samples"], 1601);
    assert_eq!(datas[1]["rate"], 250.0);
    assert_eq!(datas[1]["finished"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn page_events_reach_the_editor() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, shared, _tx) = start_demo(dir.path()).await;
    let (port, t) = (server.port, token(&server.url));
    let host = format!("127.0.0.1:{port}");
    let statuses = tokio::task::spawn_blocking(move || {
        let post = |body: &str| request(port, "POST", &format!("/api/event?token={t}"), &host, "Content-Type: application/json\r\n", body).status;
        vec![
            post(r#"{"type":"open","file":"app.py","line":6}"#),
            post(r#"{"type":"focus","path":[0,1]}"#),
            post(r#"{"type":"focus","function":4}"#),
            post(r#"{"type":"focus"}"#),
            post(r#"{"type":"open","file":"/etc/passwd","line":1}"#),
            post(r#"{"type":"nonsense"}"#),
            request(port, "POST", "/api/event", &host, "", r#"{"type":"focus"}"#).status,
            // Ids and profiles the server does not have are refused, not passed on.
            post(r#"{"type":"focus","p":0,"function":7}"#),
            post(r#"{"type":"focus","path":[0,99]}"#),
            post(r#"{"type":"focus","p":3,"function":1}"#),
            post(r#"{"type":"open","p":3,"file":"app.py","line":6}"#),
        ]
    })
    .await
    .unwrap();
    assert_eq!(statuses, vec![204, 204, 204, 204, 403, 400, 403, 400, 400, 404, 404]);
    let mut got = Vec::new();
    while let Ok(ev) = server.events.try_recv() {
        got.push(ev);
    }
    let abs = dir.path().join("app.py").to_string_lossy().into_owned();
    assert_eq!(
        got,
        vec![
            PageEvent::OpenSource { file: abs, line: 6 },
            PageEvent::Focus(Some(Focus::FunctionPath(vec![0, 1]))),
            PageEvent::Focus(Some(Focus::Function(4))),
            PageEvent::Focus(None),
        ]
    );
    // The focus filters samples the way the page's zoom does.
    let p = shared.profile.read().unwrap();
    let count = |f: &Focus| p.samples.stack.iter().filter(|&&s| f.matches(&p, s)).count();
    assert_eq!(count(&Focus::FunctionPath(vec![0, 1])), 500, "main>work");
    assert_eq!(count(&Focus::Function(4)), 500, "parse anywhere");
    assert_eq!(count(&Focus::FunctionPath(vec![0])), 1000, "main");
    let first_frames = vec![p.stack_frames(p.samples.stack[0]).last().unwrap()];
    assert!(count(&Focus::Path(first_frames)) > 0);
}

/// `ember serve FILE --open` through the real binary: prints the URL, hands the same URL to
/// the browser ($BROWSER), serves the file; a bad file gets a clear error and exit code 1.
#[test]
fn ember_serve_cli_opens_and_serves() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo.ember");
    ember::profile::file::save(&file, &web_profiles::demo()).unwrap();
    let opened = dir.path().join("opened.txt");
    let browser = dir.path().join("browser.sh");
    std::fs::write(&browser, format!("#!/bin/sh\necho \"$1\" > {}\n", opened.display())).unwrap();
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ember"))
        .args(["serve", file.to_str().unwrap(), "--open", "--root", dir.path().to_str().unwrap()])
        .env("BROWSER", &browser)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:") && url.contains("/?token="), "{url}");
    let port: u16 = url.split(':').nth(2).unwrap().split('/').next().unwrap().parse().unwrap();
    let r = get(port, &format!("/api/profile?token={}", token(&url)));
    assert_eq!(r.status, 200);
    assert_eq!(header_json(&r.body)["arrays"]["sample_stack"]["len"], 1600);
    let mut waited = 0;
    // The file exists from the shell's redirection on, before `echo` has written the line.
    while !std::fs::read_to_string(&opened).is_ok_and(|s| s.ends_with('\n')) && waited < 50 {
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    }
    assert_eq!(std::fs::read_to_string(&opened).unwrap().trim(), url, "--open hands the URL to the browser");
    child.kill().unwrap();
    let _ = child.wait();

    std::fs::write(dir.path().join("bad.ember"), "not a profile").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ember")).args(["serve", dir.path().join("bad.ember").to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.ember") && err.contains("supported inputs"), "{err}");

    // Other tools' formats are served too (py-spy's collapsed output here).
    let collapsed = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/profiles/pyspy-raw.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ember")).args(["serve", collapsed]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().to_string();
    let port: u16 = url.split(':').nth(2).unwrap().split('/').next().unwrap().parse().unwrap();
    let h = header_json(&get(port, &format!("/api/profile?token={}", token(&url))).body);
    child.kill().unwrap();
    let _ = child.wait();
    assert!(h["arrays"]["sample_stack"]["len"].as_u64().unwrap() > 0, "{h}");
    assert!(!h["functions"].as_array().unwrap().is_empty());
}
