//! `launch` and `attach` arguments, with debugpy's field names where users know them, and the
//! checks that turn them into something to run. Documented by schemas/{launch,attach}.schema.json.

use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Sampling options shared by launch and attach.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sampling {
    /// Samples per second, or "max".
    #[serde(default)]
    pub rate: Option<RateArg>,
    /// Seconds to record; unset = until the program ends or the session stops.
    #[serde(default, deserialize_with = "seconds")]
    pub duration: Option<f64>,
    #[serde(default)]
    pub subprocesses: bool,
    #[serde(default)]
    pub idle: bool,
    #[serde(default)]
    pub gil: bool,
    /// Pause the target while reading each sample (ptrace), like py-spy's default.
    #[serde(default)]
    pub blocking: bool,
    /// Where profiles go; default `<workspace>/.ember`.
    #[serde(default)]
    pub output_dir: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RateArg {
    Hz(f64),
    Max,
}

impl<'de> Deserialize<'de> for RateArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Number(n) => Ok(RateArg::Hz(n.as_f64().unwrap_or(0.0))),
            serde_json::Value::String(s) if s == "max" => Ok(RateArg::Max),
            serde_json::Value::String(s) if s.trim().parse::<f64>().is_ok() => Ok(RateArg::Hz(s.trim().parse().unwrap())),
            other => Err(de::Error::custom(format!("`rate` must be samples per second (e.g. 1000) or \"max\", not {other}"))),
        }
    }
}

/// A number, or a string holding one (as `rate` accepts: launch.json values are often quoted).
fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => Ok(n.as_f64()),
        Some(serde_json::Value::String(s)) if s.trim().parse::<f64>().is_ok() => Ok(s.trim().parse().ok()),
        Some(other) => Err(de::Error::custom(format!("`duration` must be a number of seconds (e.g. 30), not {other}"))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Console {
    #[default]
    InternalConsole,
    IntegratedTerminal,
    /// VS Code's third value; Ember treats it as `integratedTerminal`.
    ExternalTerminal,
}

/// A string or a list of strings (debugpy accepts both for `args` and `python`). Numbers are
/// taken as their text: Helix's templates turn an all-digit argument into a JSON number.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StrOrList {
    One(Scalar),
    Many(Vec<Scalar>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Str(String),
    Num(serde_json::Number),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Num(n) => n.to_string(),
        }
    }
}

impl StrOrList {
    fn into_vec(self) -> Vec<String> {
        match self {
            StrOrList::One(s) => vec![s.into_string()],
            StrOrList::Many(v) => v.into_iter().map(Scalar::into_string).collect(),
        }
    }

    /// Command-line arguments: a list as given, a string split as a shell would (quotes keep
    /// `"two words"` one argument; VS Code's `${command:pickArgs}` gives a string).
    fn into_args(self) -> Result<Vec<String>, String> {
        match self {
            StrOrList::One(s) => {
                let s = s.into_string();
                shlex::split(&s).ok_or_else(|| format!("`args` {s:?} has an unclosed quote: close it, or give `args` as a list"))
            }
            many => Ok(many.into_vec()),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchArgs {
    #[serde(default)]
    pub program: Option<String>,
    #[serde(default)]
    pub module: Option<String>,
    #[serde(default)]
    pub args: Option<StrOrList>,
    #[serde(default)]
    pub cwd: Option<String>,
    /// `null` removes a variable from the inherited environment.
    #[serde(default)]
    pub env: HashMap<String, Option<String>>,
    /// A dotenv file (debugpy's `envFile`); `env` wins over it.
    #[serde(default)]
    pub env_file: Option<String>,
    #[serde(default)]
    pub python: Option<StrOrList>,
    #[serde(default)]
    pub console: Console,
    /// Read from the same object by [`parse`]: `flatten` would lose the field names in errors.
    #[serde(skip)]
    pub sampling: Sampling,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachArgs {
    #[serde(default, deserialize_with = "process_id")]
    pub process_id: Option<u32>,
    /// Only used to place the default output folder.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Read from the same object by [`parse`]: `flatten` would lose the field names in errors.
    #[serde(skip)]
    pub sampling: Sampling,
}

/// `processId` as a number or a numeric string: VS Code's `${command:pickProcess}` and nvim-dap's
/// `pick_process` give either.
fn process_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let bad = |shown: String| {
        de::Error::custom(format!(
            "`processId` must be the PID of a running Python process, as a number or a numeric string (e.g. 1234); got {shown}"
        ))
    };
    match &v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(p) if p > 0 && p <= u32::MAX as u64 => Ok(Some(p as u32)),
            _ => Err(bad(n.to_string())),
        },
        serde_json::Value::String(s) => match s.trim().parse::<u32>() {
            Ok(p) if p > 0 => Ok(Some(p)),
            _ => Err(bad(format!("{s:?}"))),
        },
        other => Err(bad(other.to_string())),
    }
}

/// Every field Ember reads; schemas/{launch,attach}.schema.json document exactly these.
pub const LAUNCH_FIELDS: &[&str] = &[
    "program", "module", "args", "cwd", "env", "envFile", "python", "console",
    "rate", "duration", "subprocesses", "idle", "gil", "blocking", "outputDir",
];
pub const ATTACH_FIELDS: &[&str] = &["processId", "cwd", "rate", "duration", "subprocesses", "idle", "gil", "blocking", "outputDir"];
/// Fields editors add to every configuration; not Ember's, not worth a warning.
const EDITOR_FIELDS: &[&str] = &[
    "type", "request", "name", "noDebug", "presentation", "preLaunchTask", "postDebugTask",
    "internalConsoleOptions", "debugServer", "suppressMultipleSessionWarning", "serverReadyAction",
    "windows", "osx", "linux",
];

/// Fields in `args` that Ember does not read (typos, other adapters' options), so the user can
/// be told instead of wondering why a setting has no effect.
pub fn unknown_fields(args: &serde_json::Value, known: &[&str]) -> Vec<String> {
    let Some(obj) = args.as_object() else { return Vec::new() };
    obj.keys()
        .filter(|k| !k.starts_with("__") && !known.contains(&k.as_str()) && !EDITOR_FIELDS.contains(&k.as_str()))
        .cloned()
        .collect()
}

/// What the session records with, after the checks.
#[derive(Debug, Clone)]
pub struct Plan {
    pub config: ember_sampler::Config,
    pub output_dir: PathBuf,
    /// The project folder: the web page opens sources under it.
    pub workspace: PathBuf,
}

/// Variables to set (`None`: remove from the inherited environment).
pub type Env = HashMap<String, Option<String>>;

/// A launch, resolved: the command to run and where.
#[derive(Debug, Clone)]
pub struct LaunchPlan {
    /// Interpreter first, then its own flags, then the program or `-m module`, then `args`.
    pub command: Vec<String>,
    pub cwd: PathBuf,
    pub env: Env,
    /// The dotenv file read into `env`, and how many variables it gave.
    pub env_file: Option<(PathBuf, usize)>,
    pub console: Console,
    /// Short name for titles and file names: the script's stem or the module.
    pub label: String,
    pub plan: Plan,
}

/// Parses a `launch` request's arguments, with a message that names the field at fault.
pub fn parse_launch(v: &serde_json::Value) -> Result<LaunchArgs, String> {
    Ok(LaunchArgs { sampling: parse(v, "launch")?, ..parse(v, "launch")? })
}

pub fn parse_attach(v: &serde_json::Value) -> Result<AttachArgs, String> {
    Ok(AttachArgs { sampling: parse(v, "attach")?, ..parse(v, "attach")? })
}

/// serde's own messages ("invalid type: integer `1`, expected a string") do not say where:
/// the path does (`env.A`, `idle`).
fn parse<T: serde::de::DeserializeOwned>(v: &serde_json::Value, request: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // The custom messages (`rate`, `duration`, `processId`) already start with the field.
        let at = if path == "." || inner.to_string().starts_with(&format!("`{path}`")) { String::new() } else { format!("`{path}`: ") };
        format!("invalid {request} configuration: {at}{inner}. See schemas/{request}.schema.json for every field")
    })
}

/// The folder the session works in: `cwd` when given, else the adapter's own (editors start
/// adapters in the workspace).
pub fn workspace(cwd: Option<&str>) -> Result<PathBuf, String> {
    let here = std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let Some(c) = cwd.filter(|c| !c.is_empty()) else { return Ok(here) };
    let p = here.join(c);
    if !p.is_dir() {
        return Err(format!("`cwd` {} is not a directory: fix `cwd` in your launch configuration", p.display()));
    }
    Ok(p)
}

impl Sampling {
    pub fn plan(&self, workspace: &Path) -> Result<Plan, String> {
        let rate = match &self.rate {
            None => ember_sampler::Rate::Hz(1000.0),
            Some(RateArg::Max) => ember_sampler::Rate::Max,
            Some(RateArg::Hz(hz)) => ember_sampler::Rate::hz(*hz).map_err(|e| format!("`rate`: {e}"))?,
        };
        let duration = match self.duration {
            None => None,
            Some(d) => Some(ember_sampler::duration_from_secs(d).map_err(|e| format!("`duration`: {e}"))?),
        };
        let output_dir = match self.output_dir.as_deref().filter(|s| !s.is_empty()) {
            Some(d) => workspace.join(d),
            None => workspace.join(".ember"),
        };
        let config = ember_sampler::Config {
            rate,
            duration,
            subprocesses: self.subprocesses,
            idle: self.idle,
            gil: self.gil,
            blocking: self.blocking,
            ..Default::default()
        };
        Ok(Plan { config, output_dir, workspace: workspace.to_path_buf() })
    }
}

impl LaunchArgs {
    pub fn resolve(&self) -> Result<LaunchPlan, String> {
        let cwd = workspace(self.cwd.as_deref())?;
        let plan = self.sampling.plan(&cwd)?;
        let (env, env_file) = self.environment(&cwd)?;
        let env_path = match env.get("PATH") {
            Some(Some(p)) => Some(p.clone()),
            Some(None) => None,
            None => std::env::var("PATH").ok(),
        };
        let venv = match env.get("VIRTUAL_ENV") {
            Some(v) => v.clone(),
            None => std::env::var("VIRTUAL_ENV").ok(),
        };
        let mut command = match self.python.clone() {
            Some(p) => {
                let v = p.into_vec();
                if v.is_empty() || v[0].is_empty() {
                    return Err("`python` is empty: give the path of a Python interpreter, or leave it out".into());
                }
                let exe = find_executable(&v[0], &cwd, env_path.as_deref()).ok_or_else(|| {
                    format!("the Python interpreter {:?} given in `python` was not found or is not executable: fix `python` in your launch configuration", v[0])
                })?;
                std::iter::once(exe.to_string_lossy().into_owned()).chain(v[1..].iter().cloned()).collect()
            }
            None => vec![default_python(&cwd, venv.as_deref(), env_path.as_deref())?.to_string_lossy().into_owned()],
        };
        let label;
        match (&self.program, &self.module) {
            (Some(_), Some(_)) => return Err("give either `program` or `module`, not both".into()),
            (None, None) => {
                return Err("the launch configuration needs `program` (a Python file, e.g. \"${file}\") or `module` (run as `python -m`)".into())
            }
            (Some(p), None) => {
                if p.trim().is_empty() {
                    return Err("`program` is empty: give the path of the Python file to profile (e.g. \"${file}\")".into());
                }
                let path = cwd.join(p);
                if !path.exists() {
                    return Err(format!("program {} not found: check `program` (relative paths start from `cwd`, {})", path.display(), cwd.display()));
                }
                if path.is_dir() && !path.join("__main__.py").exists() {
                    return Err(format!("program {} is a folder without __main__.py: point `program` at a Python file", path.display()));
                }
                label = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "program".into());
                command.push(path.to_string_lossy().into_owned());
            }
            (None, Some(m)) => {
                if m.trim().is_empty() {
                    return Err("`module` is empty: give a module name to run as `python -m`".into());
                }
                label = m.clone();
                command.push("-m".into());
                command.push(m.clone());
            }
        }
        command.extend(self.args.clone().map(StrOrList::into_args).transpose()?.unwrap_or_default());
        Ok(LaunchPlan { command, cwd, env, env_file, console: self.console, label, plan })
    }

    /// `env` over the variables of `envFile` (debugpy's rule: `env` wins). Without `envFile`,
    /// `<cwd>/.env` is read when it exists, as VS Code's Python extension does by default.
    fn environment(&self, cwd: &Path) -> Result<(Env, Option<(PathBuf, usize)>), String> {
        let file = match self.env_file.as_deref().filter(|f| !f.trim().is_empty()) {
            Some(f) => {
                let p = cwd.join(f);
                if !p.is_file() {
                    return Err(format!("`envFile` {} not found: fix `envFile` (relative paths start from `cwd`, {}) or leave it out", p.display(), cwd.display()));
                }
                Some(p)
            }
            None => Some(cwd.join(".env")).filter(|p| p.is_file()),
        };
        let mut env = HashMap::new();
        let mut read = None;
        if let Some(p) = file {
            let bad = |e: dotenvy::Error| format!("`envFile` {}: {e}. Lines are KEY=value; fix the file or set `envFile` to another", p.display());
            let mut n = 0;
            for item in dotenvy::from_path_iter(&p).map_err(bad)? {
                let (k, v) = item.map_err(bad)?;
                // A later line wins, as in a shell.
                env.insert(k, Some(v));
                n += 1;
            }
            read = Some((p, n));
        }
        env.extend(self.env.clone());
        Ok((env, read))
    }
}

/// The workspace's `.venv`/`venv`, then `VIRTUAL_ENV`, then `python3` on PATH.
fn default_python(workspace: &Path, venv: Option<&str>, path: Option<&str>) -> Result<PathBuf, String> {
    for dir in [".venv", "venv"] {
        let p = workspace.join(dir).join("bin/python");
        if is_executable(&p) {
            return Ok(p);
        }
    }
    if let Some(v) = venv.filter(|v| !v.is_empty()) {
        let p = Path::new(v).join("bin/python");
        if is_executable(&p) {
            return Ok(p);
        }
    }
    find_executable("python3", workspace, path).ok_or_else(|| {
        format!(
            "no Python interpreter found: no .venv or venv in {}, no VIRTUAL_ENV, no python3 on PATH. Set `python` in your launch configuration to the interpreter to use",
            workspace.display()
        )
    })
}

/// A name with a slash is a path (relative to `cwd`); a bare name is looked up on PATH.
fn find_executable(name: &str, cwd: &Path, path: Option<&str>) -> Option<PathBuf> {
    if name.contains('/') {
        let p = cwd.join(name);
        return is_executable(&p).then_some(p);
    }
    std::env::split_paths(path?).map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn schema(name: &str) -> serde_json::Value {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas").join(format!("{name}.schema.json"));
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    #[test]
    fn schemas_document_exactly_the_fields_ember_reads() {
        for (name, fields) in [("launch", LAUNCH_FIELDS), ("attach", ATTACH_FIELDS)] {
            let s = schema(name);
            let mut documented: Vec<&str> = s["properties"].as_object().unwrap().keys().map(String::as_str).filter(|k| !EDITOR_FIELDS.contains(k)).collect();
            let mut read: Vec<&str> = fields.to_vec();
            documented.sort();
            read.sort();
            assert_eq!(documented, read, "{name}.schema.json");
        }
    }

    /// The configurations in docs/dap.md and the schemas' examples, as the editor sends them
    /// (variables substituted), parse with the adapter's own parser and warn about nothing.
    #[test]
    fn documented_examples_parse() {
        let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/dap.md")).unwrap();
        let mut configs: Vec<serde_json::Value> = Vec::new();
        for block in docs.split("```json\n").skip(1) {
            let v: serde_json::Value = serde_json::from_str(block.split("```").next().unwrap()).unwrap();
            match v.get("configurations") {
                Some(c) => configs.extend(c.as_array().unwrap().iter().cloned()),
                None => configs.push(v),
            }
        }
        for name in ["launch", "attach"] {
            configs.extend(schema(name)["examples"].as_array().unwrap().iter().cloned());
        }
        assert!(configs.len() >= 9, "{}", configs.len());
        for c in configs {
            let sent: serde_json::Value = serde_json::from_str(
                &c.to_string().replace("${command:pickProcess}", "4242").replace("${workspaceFolder}", "/w").replace("${file}", "/w/a.py"),
            )
            .unwrap();
            match sent["request"].as_str() {
                Some("launch") => {
                    parse_launch(&sent).unwrap();
                    assert_eq!(unknown_fields(&sent, LAUNCH_FIELDS), Vec::<String>::new(), "{sent}");
                }
                Some("attach") => {
                    assert!(parse_attach(&sent).unwrap().process_id.is_some());
                    assert_eq!(unknown_fields(&sent, ATTACH_FIELDS), Vec::<String>::new(), "{sent}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn unknown_fields_are_found_but_editor_fields_are_not() {
        let v = json!({"type": "ember", "request": "launch", "name": "x", "program": "a.py", "rat": 5, "justMyCode": true, "__sessionId": "1"});
        assert_eq!(unknown_fields(&v, LAUNCH_FIELDS), vec!["justMyCode".to_string(), "rat".to_string()]);
    }

    #[test]
    fn process_id_as_number_or_string() {
        assert_eq!(parse_attach(&json!({"processId": 1234})).unwrap().process_id, Some(1234));
        assert_eq!(parse_attach(&json!({"processId": " 99 "})).unwrap().process_id, Some(99));
        let e = parse_attach(&json!({"processId": "${command:pickProcess}"})).unwrap_err();
        assert!(e.contains("processId") && e.contains("numeric string"), "{e}");
        assert!(parse_attach(&json!({"processId": -3})).is_err());
        assert!(parse_attach(&json!({"processId": 0})).is_err());
    }

    #[test]
    fn launch_fields_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "print(1)\n").unwrap();
        let a = parse_launch(&json!({
            "type": "ember", "request": "launch", "name": "x",
            "program": "app.py", "args": ["--n", "3"], "cwd": dir.path(),
            "python": "/bin/sh", "rate": 250, "duration": 1.5, "idle": true, "env": {"A": "1", "B": null}
        }))
        .unwrap();
        let p = a.resolve().unwrap();
        assert_eq!(p.command, vec!["/bin/sh".to_string(), dir.path().join("app.py").to_string_lossy().into(), "--n".into(), "3".into()]);
        assert_eq!(p.label, "app");
        assert_eq!(p.plan.output_dir, dir.path().join(".ember"));
        assert_eq!(p.plan.config.rate, ember_sampler::Rate::Hz(250.0));
        assert_eq!(p.plan.config.duration, Some(Duration::from_millis(1500)));
        assert!(p.plan.config.idle && !p.plan.config.gil);
        assert_eq!(p.env.get("B"), Some(&None));
        assert_eq!(p.console, Console::InternalConsole);
    }

    #[test]
    fn env_file_like_debugpy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "print(1)\n").unwrap();
        let launch = |extra: serde_json::Value| {
            let mut v = json!({"program": "app.py", "cwd": dir.path(), "python": "/bin/sh"});
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            parse_launch(&v).unwrap().resolve()
        };
        // No .env, no envFile: nothing read.
        assert_eq!(launch(json!({})).unwrap().env_file, None);
        // <cwd>/.env is read by default; `env` wins over it; quotes and comments as dotenv has them.
        std::fs::write(dir.path().join(".env"), "# settings\nA=from-file\nB=\"two words\"\nC=3\nC=4\n").unwrap();
        let p = launch(json!({"env": {"A": "from-env"}})).unwrap();
        assert_eq!(p.env_file, Some((dir.path().join(".env"), 4)));
        assert_eq!(p.env.get("A"), Some(&Some("from-env".into())));
        assert_eq!(p.env.get("B"), Some(&Some("two words".into())));
        assert_eq!(p.env.get("C"), Some(&Some("4".into())), "a later line wins");
        // A named file instead, relative to cwd.
        std::fs::write(dir.path().join("dev.env"), "D=1\n").unwrap();
        let p = launch(json!({"envFile": "dev.env"})).unwrap();
        assert_eq!(p.env_file, Some((dir.path().join("dev.env"), 1)));
        assert!(!p.env.contains_key("A") && p.env.get("D") == Some(&Some("1".into())));
        // Errors name the field and the file.
        let e = launch(json!({"envFile": "missing.env"})).unwrap_err();
        assert!(e.contains("`envFile`") && e.contains("missing.env") && e.contains("not found"), "{e}");
        std::fs::write(dir.path().join("bad.env"), "GOOD=1\nnot a line\n").unwrap();
        let e = launch(json!({"envFile": "bad.env"})).unwrap_err();
        assert!(e.contains("bad.env") && e.contains("KEY=value"), "{e}");
    }

    #[test]
    fn module_and_workspace_venv() {
        let dir = tempfile::tempdir().unwrap();
        let venv_py = dir.path().join(".venv/bin/python");
        std::fs::create_dir_all(venv_py.parent().unwrap()).unwrap();
        std::fs::write(&venv_py, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&venv_py, std::fs::Permissions::from_mode(0o755)).unwrap();
        let n = parse_launch(&json!({"program": "app.py", "args": ["--port", 8000, 1.5]})).unwrap();
        assert_eq!(n.args.clone().unwrap().into_args().unwrap(), vec!["--port", "8000", "1.5"]);
        let quoted = parse_launch(&json!({"args": "--name 'two words' \"and three words\" plain"})).unwrap();
        assert_eq!(quoted.args.unwrap().into_args().unwrap(), vec!["--name", "two words", "and three words", "plain"]);
        let open = parse_launch(&json!({"args": "--name 'two words"})).unwrap();
        assert!(open.args.unwrap().into_args().unwrap_err().contains("unclosed quote"));
        let a = parse_launch(&json!({"module": "http.server", "args": "8000 --bind 127.0.0.1", "cwd": dir.path(), "rate": "max", "outputDir": "out"})).unwrap();
        let p = a.resolve().unwrap();
        assert_eq!(p.command, vec![venv_py.to_string_lossy().into_owned(), "-m".into(), "http.server".into(), "8000".into(), "--bind".into(), "127.0.0.1".into()]);
        assert_eq!(p.plan.config.rate, ember_sampler::Rate::Max);
        assert_eq!(p.plan.output_dir, dir.path().join("out"));
    }

    #[test]
    fn errors_name_the_field_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().to_string_lossy().into_owned();
        let cases = [
            (json!({"cwd": cwd}), "`program`"),
            (json!({"cwd": cwd, "program": "missing.py"}), "not found"),
            (json!({"cwd": cwd, "program": "a.py", "module": "m"}), "not both"),
            (json!({"cwd": cwd, "program": "", "python": "/bin/sh"}), "`program` is empty"),
            (json!({"cwd": cwd, "module": "m", "python": "/no/such/python"}), "`python`"),
            (json!({"cwd": "/no/such/dir", "module": "m"}), "`cwd`"),
            (json!({"cwd": cwd, "module": "m", "python": "/bin/sh", "rate": -5}), "`rate`"),
            (json!({"cwd": cwd, "module": "m", "python": "/bin/sh", "rate": 0.5}), "`rate`"),
            (json!({"cwd": cwd, "module": "m", "python": "/bin/sh", "duration": 0}), "`duration`"),
            (json!({"cwd": cwd, "module": "m", "python": "/bin/sh", "duration": 1e20}), "`duration`"),
        ];
        for (args, want) in cases {
            let e = parse_launch(&args).and_then(|a| a.resolve()).unwrap_err();
            assert!(e.contains(want), "{args}: {e}");
        }
        let e = parse_launch(&json!({"duration": [1]})).unwrap_err();
        assert!(e.contains("`duration`"), "{e}");
        let quoted = parse_launch(&json!({"cwd": cwd, "module": "m", "python": "/bin/sh", "duration": "2.5"})).unwrap().resolve().unwrap();
        assert_eq!(quoted.plan.config.duration, Some(Duration::from_millis(2500)));
        let e = parse_launch(&json!({"rate": "fast"})).unwrap_err();
        assert!(e.contains("`rate`"), "{e}");
        // Type errors name the field, the flattened sampling ones and nested ones included.
        for (args, want) in [
            (json!({"console": "somewhere"}), "`console`: unknown variant"),
            (json!({"idle": "yes"}), "`idle`: invalid type: string \"yes\", expected a boolean"),
            (json!({"outputDir": 3}), "`outputDir`: "),
            (json!({"env": {"A": 1}}), "`env.A`: "),
            (json!({"program": 3}), "`program`: "),
        ] {
            let e = parse_launch(&args).unwrap_err();
            assert!(e.contains(want), "{args}: {e}");
        }
        let e = parse_attach(&json!({"processId": 12, "gil": 1})).unwrap_err();
        assert!(e.contains("`gil`: "), "{e}");
        let e = parse_attach(&json!({"processId": "abc"})).unwrap_err();
        assert!(e.starts_with("invalid attach configuration: `processId` must be"), "{e}");
    }
}
