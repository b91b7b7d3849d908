//! The DAP envelope: requests, responses and events with their sequence numbers.
//! Bodies stay `serde_json::Value` here; handlers give them their types.

use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Deserialize)]
pub struct Request {
    pub seq: i64,
    pub command: String,
    #[serde(default)]
    pub arguments: Value,
}

impl Request {
    /// What to answer a `"type": "request"` message that did not parse (`seq` not a number, no
    /// `command`): its seq and command as far as they can be read. None for other messages.
    pub fn rejected(v: &Value) -> Option<Request> {
        if v.get("type").and_then(Value::as_str) != Some("request") {
            return None;
        }
        let seq = match v.get("seq") {
            Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
            Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
            _ => 0,
        };
        let command = v.get("command").and_then(Value::as_str).unwrap_or_default().to_string();
        Some(Request { seq, command, arguments: Value::Null })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Response {
    pub request_seq: i64,
    pub success: bool,
    pub command: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub body: Value,
}

/// A message from the client.
#[derive(Debug, Clone)]
pub enum Incoming {
    Request(Request),
    Response(Response),
    Event,
}

impl Incoming {
    pub fn parse(v: Value) -> Result<Incoming, String> {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or_default().to_string();
        match kind.as_str() {
            "request" => serde_json::from_value(v).map(Incoming::Request).map_err(|e| format!("bad request: {e}")),
            "response" => serde_json::from_value(v).map(Incoming::Response).map_err(|e| format!("bad response: {e}")),
            "event" => Ok(Incoming::Event),
            other => Err(format!("unknown message type {other:?}")),
        }
    }
}

/// A message to the client, before the session gives it its `seq`.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Response { request_seq: i64, command: String, result: Result<Value, ErrorMessage> },
    Event { event: String, body: Value },
    Request { command: String, arguments: Value },
}

impl Outgoing {
    pub fn to_json(&self, seq: i64) -> Value {
        match self {
            Outgoing::Response { request_seq, command, result: Ok(body) } => {
                let mut v = json!({"seq": seq, "type": "response", "request_seq": request_seq, "success": true, "command": command});
                if !body.is_null() {
                    v["body"] = body.clone();
                }
                v
            }
            Outgoing::Response { request_seq, command, result: Err(e) } => json!({
                "seq": seq, "type": "response", "request_seq": request_seq, "success": false,
                "command": command, "message": e.message,
                // VS Code shows `body.error.format` to the user for failed launch/attach.
                "body": {"error": {"id": e.id, "format": e.message, "showUser": true}},
            }),
            Outgoing::Event { event, body } => {
                let mut v = json!({"seq": seq, "type": "event", "event": event});
                if !body.is_null() {
                    v["body"] = body.clone();
                }
                v
            }
            Outgoing::Request { command, arguments } => {
                json!({"seq": seq, "type": "request", "command": command, "arguments": arguments})
            }
        }
    }
}

/// An error response's text: says what went wrong and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorMessage {
    pub id: u32,
    pub message: String,
}

impl ErrorMessage {
    pub fn new(message: impl Into<String>) -> ErrorMessage {
        ErrorMessage { id: 1, message: message.into() }
    }
}

impl<E: std::fmt::Display> From<E> for ErrorMessage {
    fn from(e: E) -> Self {
        ErrorMessage::new(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        let r = Incoming::parse(json!({"seq":3,"type":"request","command":"threads"})).unwrap();
        assert!(matches!(r, Incoming::Request(Request { seq: 3, ref command, .. }) if command == "threads"));
        let r = Incoming::parse(json!({"seq":4,"type":"response","request_seq":9,"success":true,"command":"runInTerminal","body":{"processId":7}})).unwrap();
        assert!(matches!(r, Incoming::Response(Response { request_seq: 9, success: true, .. })));
        assert!(Incoming::parse(json!({"seq":1,"type":"request"})).is_err());
        assert!(Incoming::parse(json!({"seq":1,"type":"nonsense"})).is_err());
    }

    #[test]
    fn error_response_carries_message_for_vscode() {
        let out = Outgoing::Response {
            request_seq: 2,
            command: "launch".into(),
            result: Err(ErrorMessage::new("bad {x}")),
        };
        let v = out.to_json(10);
        assert_eq!(v["success"], false);
        assert_eq!(v["message"], "bad {x}");
        assert_eq!(v["body"]["error"]["format"], "bad {x}");
        assert_eq!(v["body"]["error"]["showUser"], true);
        assert_eq!(v["seq"], 10);
    }
}
