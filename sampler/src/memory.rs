//! Reading the target's memory with process_vm_readv, batched: one system call can fill many
//! buffers (iovecs), which is what makes a whole stack snapshot cheap and nearly atomic.

use crate::error::Error;
use nix::sys::uio::{process_vm_readv, RemoteIoVec};
use nix::unistd::Pid;
use std::io::IoSliceMut;

#[derive(Clone, Copy)]
pub struct Remote {
    pub pid: u32,
}

/// Linux caps an iovec list at IOV_MAX (1024) entries per call.
const IOV_MAX: usize = 1024;

impl Remote {
    pub fn new(pid: u32) -> Remote {
        Remote { pid }
    }

    /// Fills `buf` from `addr`; a short read is an error (the memory is gone or unmapped).
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Error> {
        if buf.is_empty() {
            return Ok(());
        }
        let len = buf.len();
        let n = process_vm_readv(
            Pid::from_raw(self.pid as i32),
            &mut [IoSliceMut::new(buf)],
            &[RemoteIoVec { base: addr as usize, len }],
        )
        .map_err(|e| self.err(addr, e))?;
        if n != len {
            return Err(Error::Other(format!("short read of {len} bytes at {addr:#x} in PID {}", self.pid)));
        }
        Ok(())
    }

    pub fn read_u64(&self, addr: u64) -> Result<u64, Error> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    pub fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, Error> {
        let mut v = vec![0u8; len];
        self.read(addr, &mut v)?;
        Ok(v)
    }

    /// Reads many regions in as few calls as possible. `regions` are (address, length) and
    /// land back to back in `out`. Returns Ok(false) if any region could not be read whole.
    pub fn read_many(&self, regions: &[(u64, usize)], out: &mut Vec<u8>) -> Result<bool, Error> {
        let total: usize = regions.iter().map(|r| r.1).sum();
        out.clear();
        out.resize(total, 0);
        let mut remote: Vec<RemoteIoVec> = Vec::with_capacity(regions.len().min(IOV_MAX));
        let mut rest: &mut [u8] = out.as_mut_slice();
        for group in regions.chunks(IOV_MAX) {
            remote.clear();
            let mut locals: Vec<IoSliceMut> = Vec::with_capacity(group.len());
            let mut want = 0;
            for &(addr, len) in group {
                remote.push(RemoteIoVec { base: addr as usize, len });
                let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
                locals.push(IoSliceMut::new(head));
                rest = tail;
                want += len;
            }
            let n = process_vm_readv(Pid::from_raw(self.pid as i32), &mut locals, &remote)
                .map_err(|e| self.err(group[0].0, e))?;
            if n != want {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn err(&self, addr: u64, e: nix::errno::Errno) -> Error {
        match e {
            nix::errno::Errno::EFAULT => Error::Other(format!("address {addr:#x} is not mapped in PID {}", self.pid)),
            e => Error::from_errno(self.pid, "its memory", std::io::Error::from_raw_os_error(e as i32)),
        }
    }
}

/// Little-endian field access into a local copy of remote memory.
pub trait Bytes {
    fn u64_at(&self, off: usize) -> u64;
    fn u32_at(&self, off: usize) -> u32;
    fn i32_at(&self, off: usize) -> i32;
    fn u8_at(&self, off: usize) -> u8;
}

impl Bytes for [u8] {
    #[inline]
    fn u64_at(&self, off: usize) -> u64 {
        self.get(off..off + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
    }
    #[inline]
    fn u32_at(&self, off: usize) -> u32 {
        self.get(off..off + 4).map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()))
    }
    #[inline]
    fn i32_at(&self, off: usize) -> i32 {
        self.u32_at(off) as i32
    }
    #[inline]
    fn u8_at(&self, off: usize) -> u8 {
        self.get(off).copied().unwrap_or(0)
    }
}
