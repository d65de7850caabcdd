//! Writing to stdout: every command prints its results through [`out!`] and
//! [`outln!`] (or [`write_bytes`]), never `print!`.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe (`harmonia schema | head -1`)
//! fails with `BrokenPipe`, and `println!` turns that into a panic with a backtrace.
//! Here a closed stdout ends the process at once, quietly, with status 0: the reader
//! has all it wanted. Any other failure to write is an error on stderr (status 1).
//!
//! stderr (progress, summaries, errors) is for people, and a closed stderr loses
//! nothing a script reads: [`errln!`] writes there and ignores a failure, where
//! `eprintln!` would panic (a server whose stderr was piped to `grep -m1` must still
//! stop on SIGTERM). Nothing here uses `eprintln!`.

use std::io::Write;

/// Writes formatted text to stdout (see the module doc for a closed stdout).
pub(crate) fn write_fmt(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        failed(&e);
    }
}

/// Writes bytes to stdout and flushes them.
pub(crate) fn write_bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        failed(&e);
    }
}

fn failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    write_err(format_args!("error: cannot write to stdout: {e}\n"));
    std::process::exit(1);
}

/// `print!` to stdout, quiet on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_fmt(format_args!($($arg)*))
    };
}

/// `println!` to stdout, quiet on a closed pipe.
macro_rules! outln {
    () => {
        $crate::output::write_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` to stderr that never panics: a closed or full stderr drops the line.
macro_rules! errln {
    () => {
        $crate::output::write_err(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Writes formatted text to stderr, ignoring a failure (see the module doc).
/// The text is formatted first and written whole: stderr is unbuffered, and writing
/// the pieces would be a system call each.
pub(crate) fn write_err(args: std::fmt::Arguments<'_>) {
    let text = std::fmt::format(args);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

pub(crate) use {errln, out, outln};
