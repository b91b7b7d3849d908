//! Zed extension glue: starts `ember lsp` for Python and `ember dap` for debug sessions.
//! The decisions live in `config.rs`.
pub mod config;

use zed_extension_api::{
    self as zed, serde_json, DebugAdapterBinary, DebugConfig, DebugRequest, DebugScenario, DebugTaskDefinition,
    LanguageServerId, StartDebuggingRequestArguments, StartDebuggingRequestArgumentsRequest, Worktree,
};

struct Ember;

impl zed::Extension for Ember {
    fn new() -> Self {
        Ember
    }

    fn language_server_command(&mut self, _id: &LanguageServerId, worktree: &Worktree) -> zed::Result<zed::Command> {
        let user = zed::settings::LspSettings::for_worktree(config::ADAPTER, worktree)
            .ok()
            .and_then(|s| s.binary)
            .and_then(|b| b.path);
        Ok(zed::Command {
            command: config::binary(user, worktree.which("ember"))?,
            args: vec!["lsp".into()],
            env: worktree.shell_env(),
        })
    }

    fn get_dap_binary(
        &mut self,
        _adapter_name: String,
        task: DebugTaskDefinition,
        user_provided_debug_adapter_path: Option<String>,
        worktree: &Worktree,
    ) -> Result<DebugAdapterBinary, String> {
        let (arguments, request, configuration) = config::adapter_invocation(&task.config)?;
        let request = match request {
            config::Request::Launch => StartDebuggingRequestArgumentsRequest::Launch,
            config::Request::Attach => StartDebuggingRequestArgumentsRequest::Attach,
        };
        Ok(DebugAdapterBinary {
            command: Some(config::binary(user_provided_debug_adapter_path, worktree.which("ember"))?),
            arguments,
            envs: worktree.shell_env(),
            cwd: Some(worktree.root_path()),
            connection: None, // stdio
            request_args: StartDebuggingRequestArguments { configuration: configuration.to_string(), request },
        })
    }

    fn dap_request_kind(
        &mut self,
        _adapter_name: String,
        value: serde_json::Value,
    ) -> Result<StartDebuggingRequestArgumentsRequest, String> {
        Ok(match config::request_kind(&value)? {
            config::Request::Launch => StartDebuggingRequestArgumentsRequest::Launch,
            config::Request::Attach => StartDebuggingRequestArgumentsRequest::Attach,
        })
    }

    fn dap_config_to_scenario(&mut self, form: DebugConfig) -> Result<DebugScenario, String> {
        let configuration = match form.request {
            DebugRequest::Launch(l) => config::launch_configuration(&l.program, &l.args, l.cwd.as_deref(), &l.envs),
            DebugRequest::Attach(a) => config::attach_configuration(a.process_id)?,
        };
        Ok(DebugScenario {
            label: form.label,
            adapter: form.adapter,
            build: None,
            config: configuration.to_string(),
            tcp_connection: None,
        })
    }
}

zed::register_extension!(Ember);
