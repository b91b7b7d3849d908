//! HTTP routes: the embedded page, the profile download, live progress (SSE), source files
//! that appear in the profile, and the page's events for the editor.

use super::encode::{encode, Have};
use super::{assets, security, Focus, PageEvent, Served};
use axum::body::Body;
use axum::extract::{Query, Request, State as AxState};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use futures::StreamExt;
use tokio::sync::{mpsc, watch};

pub struct State {
    pub token: String,
    pub port: u16,
    pub root: PathBuf,
    pub profiles: Vec<Served>,
    pub events: mpsc::Sender<PageEvent>,
    pub focus_cleared: watch::Receiver<u64>,
}

type S = Arc<State>;

pub fn router(state: S) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/assets/{file}", get(asset))
        .route("/api/list", get(list))
        .route("/api/profile", get(profile))
        .route("/api/live", get(live))
        .route("/api/source", get(source))
        .route("/api/event", post(event))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

fn forbidden(why: &str) -> Response {
    (StatusCode::FORBIDDEN, format!("forbidden: {why}\n")).into_response()
}

async fn guard(AxState(st): AxState<S>, req: Request, next: Next) -> Response {
    if !security::host_ok(req.headers(), st.port) {
        return forbidden("the Host header must be 127.0.0.1, localhost or [::1] with this server's port");
    }
    if !security::token_ok(req.uri(), req.headers(), &st.token, st.port) {
        return forbidden("open the URL with its ?token= as printed by ember");
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The page loads nothing from elsewhere and leaks its tokened URL to no one.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp
}

async fn index(AxState(st): AxState<S>) -> Response {
    let cookie = format!("{}={}; Path=/; HttpOnly; SameSite=Strict", security::cookie_name(st.port), st.token);
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], assets::INDEX).into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii cookie"));
    r
}

async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match assets::get(&file) {
        Some((mime, body)) => ([(header::CONTENT_TYPE, mime)], body).into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}

async fn list(AxState(st): AxState<S>) -> Response {
    let items: Vec<_> = st
        .profiles
        .iter()
        .enumerate()
        .map(|(i, s)| serde_json::json!({ "index": i, "name": s.name }))
        .collect();
    Json(items).into_response()
}

/// The profile `?p=` names (default 0), or an error saying which indexes there are.
fn pick<'a>(st: &'a State, q: &HashMap<String, String>) -> Result<&'a Served, Box<Response>> {
    let given = q.get("p").map(String::as_str);
    let i = given.map_or(Some(0), |s| s.parse::<usize>().ok());
    profile_at(st, i, given.unwrap_or("0"))
}

fn profile_at<'a>(st: &'a State, i: Option<usize>, given: &str) -> Result<&'a Served, Box<Response>> {
    let n = st.profiles.len();
    match i.and_then(|i| st.profiles.get(i)) {
        Some(s) => Ok(s),
        None => {
            let status = if i.is_some() { StatusCode::NOT_FOUND } else { StatusCode::BAD_REQUEST };
            Err(Box::new((status, format!("no profile {given:?}: `p` is a profile index, 0 to {}\n", n.saturating_sub(1))).into_response()))
        }
    }
}

/// The `?strings=...` counts the page already has: numbers, absent meaning 0.
fn count(q: &HashMap<String, String>, k: &str) -> Result<usize, Box<Response>> {
    match q.get(k) {
        None => Ok(0),
        Some(v) => v.parse().map_err(|_| Box::new((StatusCode::BAD_REQUEST, format!("`{k}` must be a count, got {v:?}\n")).into_response())),
    }
}

async fn profile(AxState(st): AxState<S>, Query(q): Query<HashMap<String, String>>) -> Response {
    let served = match pick(&st, &q) {
        Ok(s) => s.clone(),
        Err(r) => return *r,
    };
    let have = (|| {
        Ok::<_, Box<Response>>(Have {
            strings: count(&q, "strings")?,
            functions: count(&q, "functions")?,
            frames: count(&q, "frames")?,
            stacks: count(&q, "stacks")?,
            samples: count(&q, "samples")?,
        })
    })();
    let have = match have {
        Ok(h) => h,
        Err(r) => return *r,
    };
    let root = st.root.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let p = served.shared.profile.read().unwrap_or_else(|e| e.into_inner());
        encode(&p, have, &root)
    })
    .await
    .unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
}

/// Progress as server-sent events: one on connect, then one per change, at most five a
/// second (the recorder publishes about that often). The same stream carries `focus` events
/// when the editor clears its focus (`WebServer::clear_focus`).
async fn live(AxState(st): AxState<S>, Query(q): Query<HashMap<String, String>>) -> Response {
    let served = match pick(&st, &q) {
        Ok(s) => s.clone(),
        Err(r) => return *r,
    };
    let rx = served.shared.updates.clone();
    let stream = futures::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first {
            if rx.changed().await.is_err() {
                // A fixed profile (its sender dropped) never changes: keep the stream open
                // (keep-alives only) so the browser does not reconnect every few seconds.
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        let p = rx.borrow_and_update().clone();
        let data = serde_json::json!({
            "samples": p.samples, "rate": p.rate, "elapsed": p.elapsed.as_secs_f64(),
            "generation": p.generation, "finished": p.finished, "torn": p.torn, "overflow": p.overflow,
            "exit_code": p.exit_code, "warnings": p.warnings,
        });
        let ev = Event::default().event("progress").data(data.to_string());
        Some((Ok::<_, std::convert::Infallible>(ev), (rx, false)))
    });
    // Only clears after this page connected: one from before is not news to it.
    let mut cleared = st.focus_cleared.clone();
    cleared.mark_unchanged();
    let focus = futures::stream::unfold(cleared, |mut rx| async move {
        rx.changed().await.ok()?;
        let ev = Event::default().event("focus").data(r#"{"focus":null}"#);
        Some((Ok(ev), rx))
    });
    let stream = futures::stream::select(stream.boxed(), focus.boxed());
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(5))).into_response()
}

/// Whether `file` is the file of a function in the profile: only those may be read.
fn in_profile(served: &Served, file: &str) -> bool {
    let p = served.shared.profile.read().unwrap_or_else(|e| e.into_inner());
    p.functions.iter().any(|f| p.str(f.file) == file)
}

fn resolve(root: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

async fn source(AxState(st): AxState<S>, Query(q): Query<HashMap<String, String>>) -> Response {
    let served = match pick(&st, &q) {
        Ok(s) => s.clone(),
        Err(r) => return *r,
    };
    let Some(file) = q.get("file") else {
        return (StatusCode::BAD_REQUEST, "missing ?file=\n").into_response();
    };
    if !in_profile(&served, file) {
        return forbidden("only source files that appear in the profile can be read");
    }
    match tokio::fs::read(resolve(&st.root, file)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], Body::from(bytes)).into_response(),
        Err(e) => (StatusCode::NOT_FOUND, format!("cannot read {file}: {e}\n")).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Posted {
    /// `path` (function ids root first), or `function`, or neither for the whole profile.
    Focus { p: Option<usize>, path: Option<Vec<u32>>, function: Option<u32> },
    Open { p: Option<usize>, file: String, line: u32 },
}

async fn event(AxState(st): AxState<S>, body: axum::body::Bytes) -> Response {
    let posted: Posted = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("bad event: {e}\n")).into_response(),
    };
    let ev = match posted {
        Posted::Focus { p, path, function } => {
            let served = match profile_at(&st, Some(p.unwrap_or(0)), &p.unwrap_or(0).to_string()) {
                Ok(s) => s,
                Err(r) => return *r,
            };
            // Ids the profile does not have would focus the editor's timings on nothing.
            let known = served.shared.profile.read().unwrap_or_else(|e| e.into_inner()).functions.len();
            if let Some(bad) = function.iter().chain(path.iter().flatten()).find(|&&f| f as usize >= known) {
                return (StatusCode::BAD_REQUEST, format!("no function {bad} in profile {}: it has {known}\n", p.unwrap_or(0))).into_response();
            }
            PageEvent::Focus(match (path, function) {
                (_, Some(f)) => Some(Focus::Function(f)),
                (Some(p), None) if !p.is_empty() => Some(Focus::FunctionPath(p)),
                _ => None,
            })
        }
        Posted::Open { p, file, line } => {
            let served = match profile_at(&st, Some(p.unwrap_or(0)), &p.unwrap_or(0).to_string()) {
                Ok(s) => s,
                Err(r) => return *r,
            };
            if !in_profile(served, &file) {
                return forbidden("only source files that appear in the profile can be opened");
            }
            let abs = resolve(&st.root, &file).to_string_lossy().into_owned();
            PageEvent::OpenSource { file: abs, line }
        }
    };
    // A full queue means nobody listens (plain `ember serve`): drop rather than block the page.
    let _ = st.events.try_send(ev);
    StatusCode::NO_CONTENT.into_response()
}
