//! Debug Adapter Protocol server (not built yet).
