//! The `fleetprune` binary: parse flags, set up logging and Ctrl-C, run, print the error once,
//! exit with its code. Nothing here panics on a closed stdout or stderr: messages that cannot be
//! written are dropped, and the exit code is still the one the run earned.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Parser;
use fleetprune::app::{self, Exit};
use fleetprune::cli::{Cli, Command};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Some(message) = fleetprune::cli::habit_error(&args) {
        say(&message);
        return Exit::Usage.into();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return clap_exit(&error),
    };
    init_logging(cli.common.verbose);
    if let Command::Offline(command) = &cli.command {
        return match fleetprune::offline::run(command, cli.common.output) {
            Ok(()) => Exit::Success.into(),
            Err(error) => {
                say(&error.to_string());
                error.exit().into()
            }
        };
    }
    let settings = match cli.settings() {
        Ok(settings) => settings,
        Err(error) => {
            say(&error.to_string());
            return Exit::Usage.into();
        }
    };
    fleetprune::malloc_arenas::limit();
    match fleetprune::fd_limit::raise_to_hard_limit() {
        Some(room) if (settings.forks.get() as u64) > room => tracing::warn!(
            "--forks {} is more than the {room} connections the open-files limit allows at once; hosts beyond it will fail to connect (raise the hard limit: ulimit -Hn)",
            settings.forks
        ),
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            say(&format!("cannot start the async runtime: {error}"));
            return Exit::PartialFailure.into();
        }
    };
    let terminated = Arc::new(AtomicBool::new(false));
    let exit = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let hard_stop = CancellationToken::new();
        tokio::spawn(handle_interrupts(
            cancel.clone(),
            hard_stop.clone(),
            Arc::clone(&terminated),
        ));
        let exit = match app::run(settings, cancel, hard_stop).await {
            Ok(exit) => exit,
            Err(error) => {
                say(&error.to_string());
                error.exit()
            }
        };
        match exit {
            Exit::Interrupted if terminated.load(Ordering::SeqCst) => Exit::Terminated,
            other => other,
        }
    });
    // A prompt abandoned by Ctrl-C still blocks a thread reading stdin: do not wait for it.
    runtime.shutdown_background();
    exit.into()
}

/// How long the report of a run cut by a second Ctrl-C may take to be written before fleetprune
/// quits without it (a stdout nobody reads, a hung disk).
const HARD_STOP_LIMIT: Duration = Duration::from_secs(2);

/// First Ctrl-C (or SIGTERM, as cron and CI runners send on timeout): start no new host or
/// kind, let calls in flight finish within the grace period, and report what was done (exit 130,
/// or 143 for SIGTERM). A second one: cut every host at once and report what is known (hosts in
/// flight as outcome unknown or interrupted), quitting without the report only if writing it
/// takes longer than [`HARD_STOP_LIMIT`].
async fn handle_interrupts(
    cancel: CancellationToken,
    hard_stop: CancellationToken,
    terminated: Arc<AtomicBool>,
) {
    let Ok(mut terminate) = signal(SignalKind::terminate()) else {
        return;
    };
    let Ok(mut interrupt) = signal(SignalKind::interrupt()) else {
        return;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => terminated.store(true, Ordering::SeqCst),
    }
    say(
        "interrupted; letting calls in flight finish, then writing the report (Ctrl-C again to stop now)",
    );
    cancel.cancel();
    let second = tokio::select! {
        _ = interrupt.recv() => Exit::Interrupted,
        _ = terminate.recv() => {
            terminated.store(true, Ordering::SeqCst);
            Exit::Terminated
        }
    };
    say("stopping now; writing what is known");
    hard_stop.cancel();
    tokio::time::sleep(HARD_STOP_LIMIT).await;
    say("the report could not be written in time; quitting without it");
    std::process::exit(second as i32);
}

/// clap's own output (`--help`, `--version`, usage errors) as clap prints it, except that an
/// error echoing an argument with control or bidi characters (a line feed too), or a huge one,
/// shows it made safe as [`say`] does (without colour then).
fn clap_exit(error: &clap::Error) -> ExitCode {
    use clap::error::ContextValue;
    use fleetprune::cli::terminal_message;
    let code = u8::try_from(error.exit_code()).unwrap_or(Exit::Usage as u8);
    let plain = error.render().to_string();
    let mut text = plain.clone();
    for (_, value) in error.context() {
        let echoed = match value {
            ContextValue::String(one) => std::slice::from_ref(one),
            ContextValue::Strings(several) => several.as_slice(),
            _ => &[],
        };
        for raw in echoed.iter().filter(|raw| !raw.is_empty()) {
            let shown = terminal_message(raw);
            if shown != *raw {
                text = text.replace(raw.as_str(), &shown);
            }
        }
    }
    let safe = |line: &str| terminal_message(line) == line.trim();
    if !error.use_stderr() || (text == plain && plain.lines().all(safe)) {
        let _ = error.print();
        return ExitCode::from(code);
    }
    let mut stderr = std::io::stderr().lock();
    for line in text.lines() {
        let _ = if safe(line) {
            writeln!(stderr, "{line}")
        } else {
            writeln!(stderr, "{}", terminal_message(line))
        };
    }
    ExitCode::from(code)
}

/// `fleetprune: message` on stderr, made safe for a terminal (no control or bidi characters from
/// the files and arguments it may echo, a huge echo cut); dropped when stderr is closed (never a
/// panic).
fn say(message: &str) {
    let message = fleetprune::cli::terminal_message(message);
    let _ = writeln!(std::io::stderr().lock(), "fleetprune: {message}");
}

/// Logs go to stderr: warnings by default, more with -vv/-vvv, or as `RUST_LOG` says. Coloured
/// only on a terminal and never with `NO_COLOR`; a log line that cannot be written is dropped.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 | 1 => "warn",
        2 => "info,russh=warn",
        _ => "debug,russh=info,hyper=info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(fleetprune::cli::colour(&std::io::stderr()))
        .log_internal_errors(false)
        .init();
}
