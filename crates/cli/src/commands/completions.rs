//! `harmonia completions bash|zsh|fish|elvish|powershell`: the shell's completion
//! script for every command and option, generated from the command line's own
//! definition (so it cannot drift), printed on stdout.

use std::process::ExitCode;

use clap_complete::Shell;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Writes the script for `args.shell` of command `cmd` to stdout.
pub(crate) fn run(args: &Args, mut cmd: clap::Command) -> anyhow::Result<ExitCode> {
    let mut buffer = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "harmonia", &mut buffer);
    crate::output::write_bytes(&buffer);
    Ok(ExitCode::SUCCESS)
}
