//! Prints how the extension starts `ember dap` for each scenario of a `.zed/debug.json` (read
//! on stdin as a JSON array, variables already substituted): the same code `get_dap_binary`
//! runs. Used by tests/python/test_client_zed.py.
use std::io::Read;

fn main() {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).expect("stdin");
    let scenarios: Vec<serde_json::Value> = serde_json::from_str(&text).expect("a JSON array of scenarios");
    let out: Vec<serde_json::Value> = scenarios
        .iter()
        .map(|s| match zed_ember::config::adapter_invocation(&s.to_string()) {
            Ok((args, request, configuration)) => serde_json::json!({
                "arguments": args,
                "request": match request { zed_ember::config::Request::Launch => "launch", zed_ember::config::Request::Attach => "attach" },
                "configuration": configuration,
            }),
            Err(e) => serde_json::json!({ "error": e }),
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
