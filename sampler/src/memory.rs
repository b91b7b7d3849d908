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
/// Up to this many regions, a read builds its iovec lists on the stack (no allocation).
const SMALL: usize = 16;

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
        Ok(self.read_many_counted(regions, out)? == out.len())
    }

    /// `read_many`, saying how many bytes were read: the regions before the first one not
    /// mapped are whole.
    pub fn read_many_counted(&self, regions: &[(u64, usize)], out: &mut Vec<u8>) -> Result<usize, Error> {
        let total: usize = regions.iter().map(|r| r.1).sum();
        // Only a part that grows is zeroed: the read overwrites the rest.
        out.truncate(total);
        out.resize(total, 0);
        if regions.len() <= SMALL {
            // A stack sample's read (a handful of regions, many thousand times a second):
            // the iovec lists live on the stack.
            let mut remote = [RemoteIoVec { base: 0, len: 0 }; SMALL];
            let mut local: [IoSliceMut; SMALL] = std::array::from_fn(|_| IoSliceMut::new(&mut []));
            self.fill(regions, out, &mut remote, &mut local);
            return self.call(regions, &mut local[..regions.len()], &remote[..regions.len()]);
        }
        let mut rest: &mut [u8] = out.as_mut_slice();
        let mut read = 0;
        for group in regions.chunks(IOV_MAX) {
            let mut remote = vec![RemoteIoVec { base: 0, len: 0 }; group.len()];
            let mut local: Vec<IoSliceMut> = (0..group.len()).map(|_| IoSliceMut::new(&mut [])).collect();
            let want = group.iter().map(|r| r.1).sum();
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(want);
            rest = tail;
            self.fill(group, head, &mut remote, &mut local);
            let n = self.call(group, &mut local, &remote)?;
            read += n;
            if n < want {
                break;
            }
        }
        Ok(read)
    }

    /// Points the iovecs at `regions` and at consecutive slices of `out`.
    fn fill<'a>(&self, regions: &[(u64, usize)], out: &'a mut [u8], remote: &mut [RemoteIoVec], local: &mut [IoSliceMut<'a>]) {
        let mut rest = out;
        for (i, &(addr, len)) in regions.iter().enumerate() {
            remote[i] = RemoteIoVec { base: addr as usize, len };
            let (head, tail) = rest.split_at_mut(len);
            local[i] = IoSliceMut::new(head);
            rest = tail;
        }
    }

    fn call(&self, regions: &[(u64, usize)], local: &mut [IoSliceMut], remote: &[RemoteIoVec]) -> Result<usize, Error> {
        process_vm_readv(Pid::from_raw(self.pid as i32), local, remote).map_err(|e| self.err(regions[0].0, e))
    }

    fn err(&self, addr: u64, e: nix::errno::Errno) -> Error {
        match e {
            nix::errno::Errno::EFAULT => Error::NotMapped { pid: self.pid, addr },
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
