//! One DAP session over any byte stream: a reader that routes client messages, a writer fed by
//! an outbox channel (so handlers, output forwarders and progress watchers all send without
//! locking the stream), and a table of pending reverse requests (`runInTerminal`) whose replies
//! the reader hands back through oneshot channels.

use super::codec::{DapCodec, Frame};
use super::handlers::Adapter;
use super::log::Log;
use super::protocol::{ErrorMessage, Incoming, Outgoing, Request, Response};
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio_util::codec::{FramedRead, FramedWrite};

/// The sending half of a session, cheap to clone.
#[derive(Clone)]
pub struct Client {
    /// `None` tells the writer to flush and stop.
    out: mpsc::UnboundedSender<Option<Value>>,
    seq: Arc<Mutex<i64>>,
    pending: Arc<Mutex<HashMap<i64, oneshot::Sender<Response>>>>,
    pub log: Log,
    /// Raised by the reader as soon as `disconnect` or `terminate` arrives, ahead of the
    /// requests queued before it: a launch still waiting (for the interpreter, for the
    /// terminal) gives up instead of holding the session for up to its timeout.
    pub ending: Ending,
}

/// See [`Client::ending`]. Once raised it stays raised: the session is ending.
#[derive(Clone, Default)]
pub struct Ending {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Ending {
    fn raise(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// The flag itself, for the sampler's wait (`Config::cancel`).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// Resolves once raised.
    pub async fn raised(&self) {
        loop {
            // Created before the check, so a raise between the two is not missed.
            let notified = self.notify.notified();
            if self.flag.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }
}

impl Client {
    fn send(&self, msg: Outgoing) -> i64 {
        // Seq numbers are assigned and queued under one lock so they reach the wire in order.
        let mut seq = self.seq.lock().unwrap();
        *seq += 1;
        let _ = self.out.send(Some(msg.to_json(*seq)));
        *seq
    }

    pub fn event(&self, event: &str, body: Value) {
        self.send(Outgoing::Event { event: event.to_string(), body });
    }

    pub fn respond(&self, req: &Request, result: Result<Value, ErrorMessage>) {
        if let Err(e) = &result {
            self.log.error(&format!("{} failed: {}", req.command, e.message));
        }
        self.send(Outgoing::Response { request_seq: req.seq, command: req.command.clone(), result });
    }

    /// Sends a reverse request and waits for the client's reply.
    pub async fn request(&self, command: &str, arguments: Value, timeout: Duration) -> Result<Value, String> {
        let (tx, rx) = oneshot::channel();
        let seq = {
            let mut seq = self.seq.lock().unwrap();
            *seq += 1;
            self.pending.lock().unwrap().insert(*seq, tx);
            let msg = Outgoing::Request { command: command.to_string(), arguments };
            let _ = self.out.send(Some(msg.to_json(*seq)));
            *seq
        };
        let reply = tokio::time::timeout(timeout, rx).await;
        self.pending.lock().unwrap().remove(&seq);
        match reply {
            Ok(Ok(r)) if r.success => Ok(r.body),
            Ok(Ok(r)) => Err(r.message.unwrap_or_else(|| format!("the client refused {command}"))),
            Ok(Err(_)) => Err(format!("the client closed the session before answering {command}")),
            Err(_) => Err(format!("the client did not answer {command} within {}s", timeout.as_secs())),
        }
    }

    fn close(&self) {
        let _ = self.out.send(None);
    }
}

/// Serves one session until the client disconnects, the stream ends, or `shutdown` turns true
/// (SIGTERM). The profile of a running target is saved in every case.
pub async fn serve<R, W>(reader: R, writer: W, log: Log, shutdown: watch::Receiver<bool>)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Option<Value>>();
    let client = Client {
        out: out_tx,
        seq: Arc::new(Mutex::new(0)),
        pending: Arc::new(Mutex::new(HashMap::new())),
        log: log.clone(),
        ending: Ending::default(),
    };

    let writer_log = log.clone();
    let writer = tokio::spawn(async move {
        let mut sink = FramedWrite::new(writer, DapCodec::default());
        while let Some(Some(v)) = out_rx.recv().await {
            writer_log.line("->", &v.to_string());
            if let Err(e) = sink.send(v).await {
                writer_log.error(&format!("writing to the client: {e}"));
                break;
            }
        }
        let _ = sink.flush().await;
    });

    let (req_tx, req_rx) = mpsc::unbounded_channel::<Request>();
    let pending = client.pending.clone();
    let reader_log = log.clone();
    let reply_client = client.clone();
    let reader = tokio::spawn(async move {
        let mut frames = FramedRead::new(reader, DapCodec::default());
        while let Some(frame) = frames.next().await {
            match frame {
                Ok(Frame::Message(v)) => {
                    reader_log.line("<-", &v.to_string());
                    let v_copy = if v.get("type").and_then(Value::as_str) == Some("request") { v.clone() } else { Value::Null };
                    match Incoming::parse(v) {
                        Ok(Incoming::Request(r)) => {
                            if matches!(r.command.as_str(), "disconnect" | "terminate") {
                                reply_client.ending.raise();
                            }
                            if req_tx.send(r).is_err() {
                                break;
                            }
                        }
                        Ok(Incoming::Response(r)) => {
                            if let Some(tx) = pending.lock().unwrap().remove(&r.request_seq) {
                                let _ = tx.send(r);
                            }
                        }
                        Ok(Incoming::Event) => {}
                        Err(e) => {
                            reader_log.error(&format!("ignored a message: {e}"));
                            // A request, however broken, gets its answer: a client waiting
                            // on it would otherwise hang.
                            if let Some(reply) = Request::rejected(&v_copy) {
                                reply_client.respond(&reply, Err(ErrorMessage::new(format!("Ember could not read this request: {e}"))));
                            }
                        }
                    }
                }
                Ok(Frame::Malformed(why)) => reader_log.error(&format!("skipped a malformed frame: {why}")),
                Err(e) => {
                    reader_log.error(&format!("reading from the client: {e}"));
                    break;
                }
            }
        }
        reader_log.line("--", "client stream ended");
    });

    Adapter::new(client.clone()).run(req_rx, shutdown).await;
    client.close();
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    reader.abort();
}
