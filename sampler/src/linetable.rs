//! linetable
