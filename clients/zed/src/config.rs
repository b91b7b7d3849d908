//! Zed-independent logic of the extension: which binary to run, what a debug configuration
//! asks for, and how Zed's generic "new session" form becomes an Ember configuration. Plain
//! types, so `cargo test` checks it natively.
use serde_json::{json, Map, Value};

pub const ADAPTER: &str = "ember";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Launch,
    Attach,
}

/// The `ember` binary: the user's `dap.ember.binary` / `lsp.ember.binary` path, else `ember`
/// on the worktree's PATH, else an error saying what to do.
pub fn binary(user_path: Option<String>, on_path: Option<String>) -> Result<String, String> {
    user_path.filter(|p| !p.trim().is_empty()).or(on_path).ok_or_else(|| {
        "the `ember` binary was not found on PATH: install it, or set its full path in Zed's \
         settings (\"dap\": {\"ember\": {\"binary\": \"/path/to/ember\"}} for debugging, \
         \"lsp\": {\"ember\": {\"binary\": {\"path\": \"/path/to/ember\"}}} for inline timings)"
            .to_string()
    })
}

/// Whether a configuration (from `.zed/debug.json`) launches or attaches.
pub fn request_kind(config: &Value) -> Result<Request, String> {
    match config.get("request").and_then(Value::as_str) {
        Some("launch") => Ok(Request::Launch),
        Some("attach") => Ok(Request::Attach),
        Some(other) => Err(format!("`request` must be \"launch\" or \"attach\", not {other:?}")),
        None if config.get("processId").is_some() => Ok(Request::Attach),
        None if config.get("program").is_some() || config.get("module").is_some() => Ok(Request::Launch),
        None => Err("set `request` to \"launch\" (with `program` or `module`) or \"attach\" (with `processId`)".into()),
    }
}

/// The configuration sent with the launch/attach request: the scenario's own fields, without
/// the keys that belong to Zed (label, adapter, build, tcp_connection).
pub fn adapter_configuration(config: &Value) -> Result<Value, String> {
    let Value::Object(map) = config else {
        return Err("an Ember debug configuration must be a JSON object".into());
    };
    let mut out: Map<String, Value> = map.clone();
    for zed_key in ["label", "adapter", "build", "tcp_connection"] {
        out.remove(zed_key);
    }
    let kind = request_kind(config)?;
    out.insert("request".into(), json!(match kind { Request::Launch => "launch", Request::Attach => "attach" }));
    Ok(Value::Object(out))
}

/// How `ember dap` is started for a scenario's JSON configuration: its arguments, the request
/// and the configuration sent with it.
pub fn adapter_invocation(scenario_config: &str) -> Result<(Vec<String>, Request, Value), String> {
    let value: Value =
        serde_json::from_str(scenario_config).map_err(|e| format!("invalid Ember debug configuration: {e}"))?;
    let configuration = adapter_configuration(&value)?;
    let request = request_kind(&configuration)?;
    Ok((vec!["dap".to_string()], request, configuration))
}

/// Zed's "new session" form, launch tab: program, arguments, folder, environment.
pub fn launch_configuration(program: &str, args: &[String], cwd: Option<&str>, env: &[(String, String)]) -> Value {
    let mut c = json!({ "request": "launch", "program": program, "args": args });
    if let Some(cwd) = cwd {
        c["cwd"] = json!(cwd);
    }
    if !env.is_empty() {
        c["env"] = Value::Object(env.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
    }
    c
}

/// Zed's "new session" form, attach tab: the picked process.
pub fn attach_configuration(process_id: Option<u32>) -> Result<Value, String> {
    let pid = process_id.ok_or("pick a process to attach Ember to")?;
    Ok(json!({ "request": "attach", "processId": pid }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_prefers_the_setting_then_path_then_says_what_to_set() {
        assert_eq!(binary(Some("/opt/ember".into()), Some("/usr/bin/ember".into())).unwrap(), "/opt/ember");
        assert_eq!(binary(Some(" ".into()), Some("/usr/bin/ember".into())).unwrap(), "/usr/bin/ember");
        let err = binary(None, None).unwrap_err();
        assert!(err.contains("not found on PATH") && err.contains("\"binary\""), "{err}");
    }

    #[test]
    fn request_kind_reads_request_or_guesses_from_fields() {
        assert_eq!(request_kind(&json!({"request": "launch"})).unwrap(), Request::Launch);
        assert_eq!(request_kind(&json!({"request": "attach", "processId": 3})).unwrap(), Request::Attach);
        assert_eq!(request_kind(&json!({"processId": "3"})).unwrap(), Request::Attach);
        assert_eq!(request_kind(&json!({"module": "http.server"})).unwrap(), Request::Launch);
        assert!(request_kind(&json!({"request": "run"})).unwrap_err().contains("\"launch\" or \"attach\""));
        assert!(request_kind(&json!({})).is_err());
    }

    #[test]
    fn adapter_configuration_drops_zed_keys_only() {
        let c = adapter_configuration(&json!({
            "label": "x", "adapter": "ember", "request": "launch", "program": "a.py", "args": ["1"], "rate": 500
        }))
        .unwrap();
        assert_eq!(c, json!({"request": "launch", "program": "a.py", "args": ["1"], "rate": 500}));
        assert!(adapter_configuration(&json!([1])).is_err());
    }

    #[test]
    fn new_session_form_becomes_ember_fields() {
        let l = launch_configuration("/w/a.py", &["--n".into(), "3".into()], Some("/w"), &[("K".into(), "V".into())]);
        assert_eq!(l, json!({"request": "launch", "program": "/w/a.py", "args": ["--n", "3"], "cwd": "/w", "env": {"K": "V"}}));
        assert_eq!(attach_configuration(Some(42)).unwrap(), json!({"request": "attach", "processId": 42}));
        assert!(attach_configuration(None).is_err());
    }
}
