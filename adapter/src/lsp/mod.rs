//! Language Server Protocol server (not built yet).
