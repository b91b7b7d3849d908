//! The sampling loop (in progress).
use crate::*;
pub(crate) fn start(_t: Target, _c: Config) -> Result<Session, Error> { Err(Error::Other("sampler not implemented yet".into())) }
pub(crate) fn dump(_pid: u32) -> Result<Vec<ThreadStack>, Error> { Err(Error::Other("sampler not implemented yet".into())) }
