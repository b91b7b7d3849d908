//! Ember's adapter: the profile model and its views (files, web page, DAP, LSP) and the CLI.
//! Data flows one way: sampler → live recording → profile → views.

pub mod cli;
pub mod dap;
pub mod debuggee;
pub mod live;
pub mod lsp;
pub mod profile;
pub mod watchdog;
pub mod web;
