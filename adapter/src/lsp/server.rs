//! The server's state and its handlers: protocol glue over the workspace, the query views and
//! the renderers.

use super::document::Document;
use super::render::Ctx;
use super::settings::Settings;
use super::workspace::{self, Loaded};
use crate::live::{Progress, SharedProfile};
use crate::profile::query::{Index, View};
use crate::profile::{Meta, Profile};
use crate::web::{Focus, PageEvent, WebOptions, WebServer};
use async_lsp::{ClientSocket, ErrorCode, ResponseError};
use futures::future::BoxFuture;
use lsp_types::notification::{self as n, Notification};
use lsp_types::request::{self as r};
use lsp_types::*;
use notify::Watcher;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;
use tokio::sync::watch;

pub const COMMANDS: [&str; 4] = ["ember.openFlamegraph", "ember.loadProfile", "ember.clearFocus", "ember.toggleInline"];

pub struct Server {
    client: ClientSocket,
    root: Option<PathBuf>,
    caps: Caps,
    settings: Settings,
    /// The last complaint about the settings: the same bad value comes from
    /// `initializationOptions`, then from every `workspace/configuration` pull.
    settings_error: Option<String>,
    initialized: bool,
    /// Messages for the user from before `initialized`.
    pending: Vec<(MessageType, String)>,
    /// The profile every view shows; the web page reads the same one, so its URL stays stable.
    shared: SharedProfile,
    shared_tx: watch::Sender<Progress>,
    current: Option<Current>,
    docs: HashMap<Url, Document>,
    /// Open documents whose file changed on disk after the recording.
    stale: HashSet<Url>,
    warned_stale: HashSet<PathBuf>,
    with_diagnostics: HashSet<Url>,
    watcher: Option<notify::RecommendedWatcher>,
    watching_dir: bool,
    dir_event_queued: Arc<AtomicBool>,
    /// A background load under way, and the newest profile `latest` named when last checked
    /// (loaded or failed): only a change of it loads again, so a profile loaded by command
    /// stays until a new recording arrives.
    loading: Option<(PathBuf, Option<SystemTime>)>,
    last_latest: Option<(PathBuf, Option<SystemTime>)>,
    web_port: u16,
    web: Result<WebServer, String>,
    /// The page's URL once the web server is up (or why it is not): `ember.openFlamegraph`
    /// sent before then waits for it.
    web_started: watch::Sender<Option<Result<String, String>>>,
}

struct Current {
    path: PathBuf,
    index: Index,
    view: View,
}

#[derive(Debug, Default, Clone, Copy)]
struct Caps {
    inlay_refresh: bool,
    lens_refresh: bool,
    configuration: bool,
    show_document: bool,
}

/// Loopback events into the main loop.
struct DirChanged;
struct ProfileReady {
    path: PathBuf,
    result: Result<Box<Loaded>, String>,
}
struct WebReady(Result<Box<WebServer>, String>);
struct Page(PageEvent);
struct Configured(Value);

type Reply<T> = BoxFuture<'static, Result<T, ResponseError>>;

/// How long `ember.openFlamegraph` waits for the page server to start.
const WEB_START_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn ready<T: Send + 'static>(v: Result<T, ResponseError>) -> Reply<T> {
    Box::pin(std::future::ready(v))
}

fn failure(code: ErrorCode, message: impl Into<String>) -> ResponseError {
    ResponseError::new(code, message.into())
}

/// A notification type that takes any params, so a malformed notification is reported and
/// ignored instead of stopping the main loop (async-lsp's default).
struct Lenient<N>(std::marker::PhantomData<N>);
impl<N: Notification> Notification for Lenient<N> {
    type Params = Value;
    const METHOD: &'static str = N::METHOD;
}

pub fn router(client: ClientSocket, web_port: u16) -> async_lsp::router::Router<Server> {
    let mut router = async_lsp::router::Router::new(Server::new(client, web_port));
    router
        .request::<r::Initialize, _>(|st, p| ready(Ok(st.initialize(p))))
        .request::<r::Shutdown, _>(|_, _| ready(Ok(())))
        .request::<r::InlayHintRequest, _>(|st, p| ready(Ok(Some(st.inlay_hints(p)))))
        .request::<r::CodeLensRequest, _>(|st, p| ready(Ok(Some(st.code_lenses(p)))))
        .request::<r::HoverRequest, _>(|st, p| ready(Ok(st.hover(p))))
        .request::<r::ExecuteCommand, _>(|st, p| st.execute(p));
    fn on<N: Notification>(router: &mut async_lsp::router::Router<Server>, f: fn(&mut Server, N::Params)) {
        router.notification::<Lenient<N>>(move |st, v| {
            match serde_json::from_value::<N::Params>(v) {
                Ok(p) => guarded(st, N::METHOD, |st| f(st, p)),
                Err(e) => st.message(MessageType::ERROR, format!("ember: ignored a malformed {} notification: {e}", N::METHOD)),
            }
            ControlFlow::Continue(())
        });
    }
    on::<n::Initialized>(&mut router, |st, _| st.on_initialized());
    on::<n::DidOpenTextDocument>(&mut router, Server::did_open);
    on::<n::DidChangeTextDocument>(&mut router, Server::did_change);
    on::<n::DidCloseTextDocument>(&mut router, Server::did_close);
    on::<n::DidChangeConfiguration>(&mut router, Server::did_change_configuration);
    router
        .unhandled_notification(|_, _| ControlFlow::Continue(()))
        .event::<DirChanged>(|st, _| {
            st.dir_event_queued.store(false, Ordering::SeqCst);
            guarded(st, "watching .ember/", Server::check_latest);
            ControlFlow::Continue(())
        })
        .event::<ProfileReady>(|st, ev| {
            guarded(st, "loading a profile", |st| st.profile_ready(ev));
            ControlFlow::Continue(())
        })
        .event::<WebReady>(|st, WebReady(r)| {
            match &r {
                Ok(web) => {
                    let message = format!("ember: flamegraph at {}", web.url);
                    let _ = st.client.notify::<n::LogMessage>(LogMessageParams { typ: MessageType::INFO, message });
                }
                Err(e) => eprintln!("ember lsp: the flamegraph server did not start: {e}"),
            }
            st.web = r.map(|w| *w);
            ControlFlow::Continue(())
        })
        .event::<Page>(|st, Page(ev)| {
            guarded(st, "a flamegraph page event", |st| st.page_event(ev));
            ControlFlow::Continue(())
        })
        .event::<Configured>(|st, Configured(v)| {
            st.apply_settings(&v);
            st.refresh();
            ControlFlow::Continue(())
        });
    router
}

/// Runs a notification or event handler; a bug in it is reported instead of ending the
/// server (async-lsp catches panics in requests only).
fn guarded(st: &mut Server, what: &str, f: impl FnOnce(&mut Server)) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(st))).is_err() {
        st.message(MessageType::ERROR, format!("ember: internal error while handling {what}; please report it"));
    }
}

impl Server {
    fn new(client: ClientSocket, web_port: u16) -> Server {
        let (shared, shared_tx) = SharedProfile::fixed(Profile::new(Meta::default()));
        Server {
            client,
            root: None,
            caps: Caps::default(),
            settings: Settings::default(),
            settings_error: None,
            initialized: false,
            pending: Vec::new(),
            shared,
            shared_tx,
            current: None,
            docs: HashMap::new(),
            stale: HashSet::new(),
            warned_stale: HashSet::new(),
            with_diagnostics: HashSet::new(),
            watcher: None,
            watching_dir: false,
            dir_event_queued: Arc::new(AtomicBool::new(false)),
            loading: None,
            last_latest: None,
            web_port,
            web: Err("it is starting".into()),
            web_started: watch::Sender::new(None),
        }
    }

    fn message(&mut self, typ: MessageType, message: String) {
        eprintln!("{message}");
        if self.initialized {
            let _ = self.client.notify::<n::ShowMessage>(ShowMessageParams { typ, message });
        } else {
            self.pending.push((typ, message));
        }
    }

    fn apply_settings(&mut self, v: &Value) {
        match self.settings.apply(v) {
            Err(e) if self.settings_error.as_ref() != Some(&e) => {
                self.settings_error = Some(e.clone());
                self.message(MessageType::WARNING, e);
            }
            Err(_) => {}
            Ok(()) => self.settings_error = None,
        }
    }

    // ---- lifecycle ----

    fn initialize(&mut self, p: InitializeParams) -> InitializeResult {
        self.root = workspace::root(&p);
        let ws = p.capabilities.workspace.as_ref();
        self.caps = Caps {
            inlay_refresh: ws.and_then(|w| w.inlay_hint.as_ref()).and_then(|c| c.refresh_support).unwrap_or(false),
            lens_refresh: ws.and_then(|w| w.code_lens.as_ref()).and_then(|c| c.refresh_support).unwrap_or(false),
            configuration: ws.and_then(|w| w.configuration).unwrap_or(false),
            show_document: p.capabilities.window.as_ref().and_then(|w| w.show_document.as_ref()).is_some_and(|s| s.support),
        };
        if let Some(opts) = &p.initialization_options {
            self.apply_settings(opts);
        }
        // Load now: clients without refresh (Helix) ask for hints once, right after this.
        if let Some(dir) = self.ember_dir() {
            // A recording whose Ember was killed (an editor killing its debug adapter) is
            // saved first, so its timings show if it is the newest.
            for r in crate::profile::store::recover(&dir) {
                match r {
                    Ok(crate::profile::journal::Recovered { saved: Some(path), samples, .. }) => self.message(
                        MessageType::INFO,
                        format!("ember: a recording was interrupted (Ember was killed); its {samples} samples are saved in {}", path.display()),
                    ),
                    Ok(_) => {}
                    Err(e) => self.message(MessageType::WARNING, format!("ember: {e}")),
                }
            }
            match workspace::latest(&dir) {
                Ok(Some(path)) => {
                    self.last_latest = Some((path.clone(), workspace::mtime(&path)));
                    match workspace::load(&path) {
                        Ok(l) => self.install(l),
                        Err(e) => self.message(MessageType::ERROR, format!("ember: could not load the latest profile: {e:#}")),
                    }
                }
                Ok(None) => {}
                Err(e) => self.message(MessageType::WARNING, format!("ember: {e:#}")),
            }
            self.watch();
        }
        InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    ..Default::default()
                })),
                inlay_hint_provider: Some(OneOf::Left(true)),
                code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: COMMANDS.iter().map(|c| c.to_string()).collect(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            server_info: Some(ServerInfo { name: "ember".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
        }
    }

    fn on_initialized(&mut self) {
        self.initialized = true;
        for (typ, message) in std::mem::take(&mut self.pending) {
            let _ = self.client.notify::<n::ShowMessage>(ShowMessageParams { typ, message });
        }
        self.pull_configuration();
        let (client, shared, port, root) = (self.client.clone(), self.shared.clone(), self.web_port, self.root.clone());
        let started = self.web_started.clone();
        tokio::spawn(async move {
            match WebServer::start_in(WebOptions { port }, shared, root).await {
                Ok(mut web) => {
                    // The page's events come here; the server itself goes to the state.
                    let mut events = std::mem::replace(&mut web.events, tokio::sync::mpsc::channel(1).1);
                    started.send_replace(Some(Ok(web.url.clone())));
                    let _ = client.emit(WebReady(Ok(Box::new(web))));
                    while let Some(ev) = events.recv().await {
                        if client.emit(Page(ev)).is_err() {
                            break;
                        }
                    }
                }
                Err(e) => {
                    started.send_replace(Some(Err(format!("{e:#}"))));
                    let _ = client.emit(WebReady(Err(format!("{e:#}"))));
                }
            }
        });
    }

    fn pull_configuration(&self) {
        if !self.caps.configuration {
            return;
        }
        let client = self.client.clone();
        tokio::spawn(async move {
            let items = vec![ConfigurationItem { scope_uri: None, section: Some("ember".into()) }];
            if let Ok(mut values) = client.request::<r::WorkspaceConfiguration>(ConfigurationParams { items }).await {
                if let Some(v) = values.pop() {
                    let _ = client.emit(Configured(v));
                }
            }
        });
    }

    fn did_change_configuration(&mut self, p: DidChangeConfigurationParams) {
        if self.caps.configuration {
            self.pull_configuration();
        } else {
            self.apply_settings(&p.settings);
            self.refresh();
        }
    }

    // ---- profiles ----

    fn ember_dir(&self) -> Option<PathBuf> {
        self.root.as_deref().map(workspace::ember_dir)
    }

    /// Watches the root (to see `.ember/` appear) and `.ember/` (to see `latest` change).
    fn watch(&mut self) {
        let (Some(root), Some(dir)) = (self.root.clone(), self.ember_dir()) else { return };
        if self.watcher.is_none() {
            let client = self.client.clone();
            let filter = dir.clone();
            let queued = self.dir_event_queued.clone();
            let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                let Ok(ev) = res else { return };
                // Reading the folder makes access events: reacting to them would loop.
                if matches!(ev.kind, notify::EventKind::Access(_)) || !ev.paths.iter().any(|p| p.starts_with(&filter)) {
                    return;
                }
                // One check in the queue at a time, however many events a save makes.
                if !queued.swap(true, Ordering::SeqCst) {
                    let _ = client.emit(DirChanged);
                }
            });
            match watcher {
                Ok(mut w) => {
                    if let Err(e) = w.watch(&root, notify::RecursiveMode::NonRecursive) {
                        eprintln!("ember lsp: cannot watch {}: {e}", root.display());
                    }
                    self.watcher = Some(w);
                }
                Err(e) => eprintln!("ember lsp: cannot watch for new profiles: {e}"),
            }
        }
        if !self.watching_dir && dir.is_dir() {
            if let Some(w) = self.watcher.as_mut() {
                self.watching_dir = w.watch(&dir, notify::RecursiveMode::NonRecursive).is_ok();
            }
        }
    }

    /// Something changed in `.ember/`: load the profile `latest` names if it is new.
    fn check_latest(&mut self) {
        self.watch();
        let Some(dir) = self.ember_dir() else { return };
        let path = match workspace::latest(&dir) {
            Ok(Some(p)) => p,
            Ok(None) => return,
            Err(e) => {
                eprintln!("ember lsp: {e:#}");
                return;
            }
        };
        let key = (path.clone(), workspace::mtime(&path));
        if key.1.is_none() || self.last_latest.as_ref() == Some(&key) || self.loading.is_some() {
            return; // unchanged, or a load under way (profile_ready checks again)
        }
        self.last_latest = Some(key.clone());
        self.loading = Some(key);
        let client = self.client.clone();
        tokio::task::spawn_blocking(move || {
            let result = std::panic::catch_unwind(|| workspace::load(&path))
                .unwrap_or_else(|_| Err(anyhow::anyhow!("reading {} crashed the reader", path.display())))
                .map(Box::new)
                .map_err(|e| format!("{e:#}"));
            let _ = client.emit(ProfileReady { path, result });
        });
    }

    fn profile_ready(&mut self, ev: ProfileReady) {
        self.loading = None;
        match ev.result {
            Ok(l) => {
                let samples = l.profile.samples.len();
                self.install(*l);
                eprintln!("ember lsp: loaded {} ({samples} samples)", ev.path.display());
                self.refresh();
            }
            Err(e) => {
                self.message(
                    MessageType::ERROR,
                    format!("ember: could not load the new profile ({e}); the previous timings stay shown"),
                );
            }
        }
        self.check_latest();
    }

    fn install(&mut self, l: Loaded) {
        self.shared.replace(&self.shared_tx, l.profile);
        self.current = Some(Current { path: l.path, index: l.index, view: l.view });
        self.warned_stale.clear();
        let uris: Vec<Url> = self.docs.keys().cloned().collect();
        for uri in uris {
            self.check_stale(&uri);
        }
    }

    fn set_focus(&mut self, focus: Option<Focus>) {
        let Some(cur) = self.current.as_mut() else { return };
        let profile = self.shared.profile.read().unwrap_or_else(|e| e.into_inner());
        cur.view = cur.index.view(&profile, focus.as_ref());
        drop(profile);
        self.refresh();
    }

    /// Asks clients that support it to ask again; others get fresh data on their next request.
    fn refresh(&mut self) {
        if !self.initialized {
            return;
        }
        let client = self.client.clone();
        let caps = self.caps;
        tokio::spawn(async move {
            if caps.inlay_refresh {
                let _ = client.request::<r::InlayHintRefreshRequest>(()).await;
            }
            if caps.lens_refresh {
                let _ = client.request::<r::CodeLensRefresh>(()).await;
            }
        });
        let uris: Vec<Url> = self.docs.keys().cloned().collect();
        for uri in uris {
            self.publish_diagnostics(&uri);
        }
    }

    // ---- documents ----

    fn did_open(&mut self, p: DidOpenTextDocumentParams) {
        let uri = p.text_document.uri;
        self.docs.insert(uri.clone(), Document::new(&p.text_document.text));
        self.check_stale(&uri);
        self.publish_diagnostics(&uri);
    }

    fn did_change(&mut self, p: DidChangeTextDocumentParams) {
        if let Some(doc) = self.docs.get_mut(&p.text_document.uri) {
            for change in &p.content_changes {
                doc.apply(change);
            }
            self.publish_diagnostics(&p.text_document.uri);
        }
    }

    fn did_close(&mut self, p: DidCloseTextDocumentParams) {
        self.docs.remove(&p.text_document.uri);
        self.stale.remove(&p.text_document.uri);
        if self.with_diagnostics.remove(&p.text_document.uri) {
            let _ = self.client.notify::<n::PublishDiagnostics>(PublishDiagnosticsParams {
                uri: p.text_document.uri,
                diagnostics: vec![],
                version: None,
            });
        }
    }

    fn check_stale(&mut self, uri: &Url) {
        let Some(path) = workspace::uri_path(uri) else { return };
        let why = {
            let Some(cur) = &self.current else { return };
            match (cur.view.file(&path.to_string_lossy()), self.docs.get(uri)) {
                (Some(stats), Some(doc)) => {
                    let profile = self.shared.profile.read().unwrap_or_else(|e| e.into_inner());
                    if workspace::changed_since(&profile, &path) == Some(true) {
                        Some("changed on disk after the profile was recorded")
                    } else if let Some(line) = workspace::misplaced_line(stats, doc) {
                        eprintln!("ember lsp: {}: sampled line {line} is blank, a comment or past the end", path.display());
                        Some("does not match the profile (it has samples on blank or comment lines); it was probably edited after the recording")
                    } else {
                        None
                    }
                }
                _ => None,
            }
        };
        let Some(why) = why else {
            self.stale.remove(uri);
            return;
        };
        self.stale.insert(uri.clone());
        if self.warned_stale.insert(path.clone()) {
            self.message(
                MessageType::WARNING,
                format!("ember: {} {why}; its timings may be on the wrong lines. Record again to refresh them.", path.display()),
            );
        }
    }

    /// The document for `uri`: the open one, or the file on disk for clients that ask first.
    fn document(&self, uri: &Url) -> Option<std::borrow::Cow<'_, Document>> {
        if let Some(d) = self.docs.get(uri) {
            return Some(std::borrow::Cow::Borrowed(d));
        }
        let text = std::fs::read_to_string(workspace::uri_path(uri)?).ok()?;
        Some(std::borrow::Cow::Owned(Document::new(&text)))
    }

    /// Runs `f` with the rendering context of `uri`'s file, if the profile has timings for it.
    fn with_file<T>(&self, uri: &Url, f: impl FnOnce(&Ctx, &Document, &Current, &Profile) -> T) -> Option<T> {
        let cur = self.current.as_ref()?;
        let path = workspace::uri_path(uri)?;
        let file = cur.view.file(&path.to_string_lossy())?;
        let doc = self.document(uri)?;
        let profile = self.shared.profile.read().unwrap_or_else(|e| e.into_inner());
        let stale = if self.docs.contains_key(uri) {
            self.stale.contains(uri)
        } else {
            workspace::changed_since(&profile, &path) == Some(true)
        };
        let ctx = Ctx { view: &cur.view, file, settings: &self.settings, sample_seconds: cur.index.sample_seconds, stale };
        Some(f(&ctx, &doc, cur, &profile))
    }

    fn publish_diagnostics(&mut self, uri: &Url) {
        let diagnostics = if self.settings.diagnostics && self.settings.inline {
            self.with_file(uri, |ctx, doc, _, _| ctx.diagnostics(doc)).unwrap_or_default()
        } else {
            vec![]
        };
        // Publish what there is, and an empty list once to clear what was shown before.
        let publish = if diagnostics.is_empty() {
            self.with_diagnostics.remove(uri)
        } else {
            self.with_diagnostics.insert(uri.clone());
            true
        };
        if publish {
            let _ = self.client.notify::<n::PublishDiagnostics>(PublishDiagnosticsParams { uri: uri.clone(), diagnostics, version: None });
        }
    }

    // ---- requests ----

    fn inlay_hints(&mut self, p: InlayHintParams) -> Vec<InlayHint> {
        if !self.settings.inline {
            return vec![];
        }
        self.with_file(&p.text_document.uri, |ctx, doc, _, _| ctx.inlay_hints(doc, p.range)).unwrap_or_default()
    }

    fn code_lenses(&mut self, p: CodeLensParams) -> Vec<CodeLens> {
        if !self.settings.inline {
            return vec![];
        }
        self.with_file(&p.text_document.uri, |ctx, doc, _, _| ctx.code_lenses(doc)).unwrap_or_default()
    }

    fn hover(&mut self, p: HoverParams) -> Option<Hover> {
        let pos = p.text_document_position_params;
        let md = self.with_file(&pos.text_document.uri, |ctx, doc, cur, profile| {
            let orig = doc.original_line(pos.position.line)?;
            let line = ctx.file.line(orig).map(|l| (l, cur.index.stacks_into_line(profile, &cur.view, &ctx.file.path, orig, 5)));
            let func = ctx.file.function_at(orig).map(|f| (f, cur.index.stacks_into_function(profile, &cur.view, f.func, 5)));
            if line.is_none() && func.is_none() {
                return None;
            }
            let name = cur.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Some(format!("{}\n_profile: {name}_\n", ctx.hover(profile, line, func)))
        })??;
        Some(Hover { contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: md }), range: None })
    }

    fn execute(&mut self, p: ExecuteCommandParams) -> Reply<Option<Value>> {
        let arg = p.arguments.first();
        let result = match p.command.as_str() {
            "ember.openFlamegraph" => return self.open_flamegraph(arg),
            "ember.loadProfile" => self.load_profile_command(arg),
            "ember.clearFocus" => {
                self.set_focus(None);
                if let Ok(web) = &self.web {
                    web.clear_focus();
                }
                Ok(json!({ "focus": null }))
            }
            "ember.toggleInline" => {
                self.settings.inline = !self.settings.inline;
                self.refresh();
                Ok(json!({ "inline": self.settings.inline }))
            }
            other => Err(failure(
                ErrorCode::INVALID_PARAMS,
                format!("unknown command {other:?}; Ember's commands are {}", COMMANDS.join(", ")),
            )),
        };
        ready(result.map(Some))
    }

    /// The page server starts once the client is initialized; a command sent right then (an
    /// editor's start-up script, a quick user) waits for it rather than failing.
    fn open_flamegraph(&mut self, arg: Option<&Value>) -> Reply<Option<Value>> {
        let field = |k: &str| arg.and_then(|a| a.get(k)).and_then(|v| v.as_str()).map(str::to_string);
        let function = field("file").zip(field("name"));
        let mut started = self.web_started.subscribe();
        let (client, show_document) = (self.client.clone(), self.caps.show_document);
        Box::pin(async move {
            let page = match tokio::time::timeout(WEB_START_WAIT, started.wait_for(Option::is_some)).await {
                Ok(Ok(v)) => v.clone().expect("waited for Some"),
                _ => Err(format!("it did not start within {} s", WEB_START_WAIT.as_secs())),
            };
            let page = page.map_err(|e| failure(ErrorCode::REQUEST_FAILED, format!("the flamegraph server is not available: {e}")))?;
            let url = match function {
                Some((file, name)) => crate::web::function_url(&page, &file, &name, false),
                None => page,
            };
            let uri = Url::parse(&url).map_err(|e| failure(ErrorCode::INTERNAL_ERROR, format!("bad flamegraph URL {url}: {e}")))?;
            if show_document {
                let params = ShowDocumentParams { uri, external: Some(true), take_focus: Some(true), selection: None };
                tokio::spawn(async move {
                    let _ = client.request::<r::ShowDocument>(params).await;
                });
            } else {
                // The client cannot open URLs: show it where the user can copy it.
                let message = format!("ember: the flamegraph is at {url}");
                let _ = client.notify::<n::ShowMessage>(ShowMessageParams { typ: MessageType::INFO, message });
            }
            Ok(Some(json!({ "url": url })))
        })
    }

    fn load_profile_command(&mut self, arg: Option<&Value>) -> Result<Value, ResponseError> {
        let path = arg
            .and_then(|a| a.as_str().or_else(|| a.get("path").and_then(|p| p.as_str())))
            .ok_or_else(|| failure(ErrorCode::INVALID_PARAMS, "ember.loadProfile needs the profile's path as its argument"))?;
        let mut path = PathBuf::from(path);
        if path.is_relative() {
            if let Some(root) = &self.root {
                path = root.join(path);
            }
        }
        let loaded = workspace::load(&path).map_err(|e| failure(ErrorCode::REQUEST_FAILED, format!("{e:#}")))?;
        let samples = loaded.profile.samples.len();
        self.install(loaded);
        self.refresh();
        Ok(json!({ "profile": path, "samples": samples }))
    }

    fn page_event(&mut self, ev: PageEvent) {
        match ev {
            PageEvent::Focus(f) => self.set_focus(f),
            PageEvent::OpenSource { file, line } => {
                let mut path = PathBuf::from(&file);
                if path.is_relative() {
                    if let Some(root) = &self.root {
                        path = root.join(path);
                    }
                }
                let Ok(uri) = Url::from_file_path(&path) else { return };
                let at = Position::new(line.saturating_sub(1), 0);
                let client = self.client.clone();
                tokio::spawn(async move {
                    let params = ShowDocumentParams { uri, external: Some(false), take_focus: Some(true), selection: Some(Range::new(at, at)) };
                    let _ = client.request::<r::ShowDocument>(params).await;
                });
            }
        }
    }
}
