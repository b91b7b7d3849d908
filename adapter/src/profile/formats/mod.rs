//! Other tools' profile formats: reading and writing, one module per format.

/// Input formats `read` understands, for error messages.
pub const SUPPORTED_INPUTS: &str = "Ember (.ember), collapsed stacks (Brendan Gregg / py-spy / CPython 3.15 --collapsed), speedscope JSON, `perf script` text, Austin text";
