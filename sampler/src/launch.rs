//! Starting a program to profile.

use nix::sys::signal::{signal, SigHandler, Signal};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Gives the program default SIGINT and SIGQUIT handling, whatever Ember inherited. An ignored
/// signal survives exec: started from a background job or a service, Ember would pass SIGINT's
/// "ignore" on, and Python, which installs KeyboardInterrupt only where SIGINT was not ignored,
/// would then shrug off the Ctrl-C that stops it cleanly.
pub fn default_signals(cmd: &mut Command) -> &mut Command {
    // SAFETY: runs in the forked child before exec; sigaction is async-signal-safe and nothing
    // here allocates or takes a lock.
    unsafe {
        cmd.pre_exec(|| {
            let _ = signal(Signal::SIGINT, SigHandler::SigDfl);
            let _ = signal(Signal::SIGQUIT, SigHandler::SigDfl);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SigIgn mask a command's process starts with (bit n-1 = signal n).
    fn ignored_by(cmd: &mut Command) -> u64 {
        let out = cmd.args(["-c", "grep SigIgn /proc/self/status"]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        u64::from_str_radix(text.split_whitespace().nth(1).unwrap(), 16).unwrap()
    }

    #[test]
    fn an_ignored_sigint_is_not_passed_on() {
        // SAFETY: SigIgn installs no handler code; restored below.
        let old = unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) }.unwrap();
        let inherited = ignored_by(&mut Command::new("/bin/sh"));
        let reset = ignored_by(default_signals(&mut Command::new("/bin/sh")));
        unsafe { signal(Signal::SIGINT, old) }.unwrap();
        let int = 1 << (libc::SIGINT - 1);
        assert_ne!(inherited & int, 0, "control: a plain spawn inherits the ignored SIGINT");
        assert_eq!(reset & int, 0, "default_signals must reset SIGINT");
    }
}
