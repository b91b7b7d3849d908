//! Test fixture for the browser tests and bench/web.sh: serves profiles built in code
//! (tests/support/web_profiles.rs) with the real `WebServer`, prints the URL, then prints
//! every page event as one JSON line so tests can assert what an editor would receive.
//!
//! Usage: web_fixture [--root DIR] [--live] KIND...   (serve)
//!        web_fixture --write DIR KIND...              (save KIND.ember files for `ember serve`)   KIND: demo | demo-new | procs | deep:N | big:SAMPLES:STACKS:DEPTH
//! `--live` grows the first profile for 3 s (samples pushed every 100 ms, progress ticks).
//! `--replace KIND` swaps the first profile for KIND after 1.5 s (as the LSP server does when
//! a newer recording arrives: `SharedProfile::replace`).

#[path = "support/web_profiles.rs"]
mod web_profiles;

use ember::live::{Progress, SharedProfile};
use ember::web::{PageEvent, Served, WebOptions, WebServer};
use std::io::Write;
use std::time::Duration;

fn build(kind: &str) -> ember::profile::Profile {
    let parts: Vec<&str> = kind.split(':').collect();
    let n = |i: usize| parts.get(i).and_then(|s| s.parse::<usize>().ok());
    match parts[0] {
        "demo" => web_profiles::demo(),
        "demo-new" => web_profiles::demo_with(2, false),
        "procs" => web_profiles::procs(),
        "deep" => web_profiles::deep(n(1).unwrap_or(5000) as u32),
        "big" => web_profiles::big(n(1).unwrap_or(1_000_000), n(2).unwrap_or(100_000), n(3).unwrap_or(500)),
        other => panic!("unknown profile kind {other}"),
    }
}

#[tokio::main]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut root = None;
    if let Some(i) = args.iter().position(|a| a == "--root") {
        root = Some(args.remove(i + 1).into());
        args.remove(i);
    }
    if args.first().map(String::as_str) == Some("--write") {
        let dir = std::path::PathBuf::from(&args[1]);
        for kind in &args[2..] {
            let path = dir.join(format!("{}.ember", kind.replace(':', "-")));
            ember::profile::file::save(&path, &build(kind)).expect("save");
            println!("{}", path.display());
        }
        return;
    }
    let live = args.iter().position(|a| a == "--live").map(|i| args.remove(i)).is_some();
    let replace = args.iter().position(|a| a == "--replace").map(|i| {
        let kind = args.remove(i + 1);
        args.remove(i);
        kind
    });
    let mut served = Vec::new();
    let mut live_tx = None;
    for (i, kind) in args.iter().enumerate() {
        let full = build(kind);
        if let (Some(kind), 0) = (&replace, i) {
            let (shared, tx) = SharedProfile::fixed(full);
            let newer = build(kind);
            let s2 = shared.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                s2.replace(&tx, newer);
                std::future::pending::<()>().await;
            });
            served.push(Served { name: kind.clone(), shared });
        } else if live && i == 0 {
            let mut empty = full.clone();
            empty.samples = Default::default();
            let (shared, tx) = SharedProfile::fixed(empty);
            tx.send_modify(|p| p.finished = false);
            live_tx = Some((shared.clone(), tx, full));
            served.push(Served { name: kind.clone(), shared });
        } else {
            served.push(Served { name: kind.clone(), shared: SharedProfile::fixed(full).0 });
        }
    }
    let mut server = WebServer::start_many(WebOptions { port: 0 }, served, root).await.expect("start");
    println!("{}", server.url);
    std::io::stdout().flush().unwrap();
    if let Some((shared, tx, full)) = live_tx {
        tokio::spawn(async move {
            let n = full.samples.len();
            let steps = 30;
            for step in 1..=steps {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let (from, to) = ((step - 1) * n / steps, step * n / steps);
                {
                    let mut p = shared.profile.write().unwrap();
                    for i in from..to {
                        let s = &full.samples;
                        p.push_sample(s.time_ns[i], s.thread[i], s.stack[i], s.flags[i]);
                    }
                }
                tx.send_modify(|p: &mut Progress| {
                    p.samples = to as u64;
                    p.rate = (to - from) as f64 * 10.0;
                    p.generation += 1;
                    p.finished = step == steps;
                });
            }
            // Keep the sender alive so the SSE stream stays open.
            std::future::pending::<()>().await;
        });
    }
    while let Some(ev) = server.events.recv().await {
        let line = match ev {
            PageEvent::OpenSource { file, line } => serde_json::json!({ "open": { "file": file, "line": line } }),
            PageEvent::Focus(f) => serde_json::json!({ "focus": format!("{f:?}") }),
        };
        println!("{line}");
        std::io::stdout().flush().unwrap();
    }
}
