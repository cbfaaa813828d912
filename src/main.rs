use clap::Parser;
use pizza_pipeline::cli::{run, Cli, Command};
use std::io::IsTerminal;
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::EnvFilter;

/// `PIZZA_LOG` (default `info`); the Azure SDK's per-request lines stay at `warn` unless
/// `PIZZA_LOG` names its targets itself.
fn log_filter() -> EnvFilter {
    let directives = std::env::var("PIZZA_LOG").unwrap_or_else(|_| "info".into());
    EnvFilter::try_new(format!("typespec_client_core=warn,{directives}"))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Where log lines go. Under the Azure Functions host (`serve`) the host reads the
/// handler's stdout and stderr line by line and takes a stderr line for an error, so
/// informational lines go to stdout, warnings and errors to stderr, and no line carries
/// colour codes. Everywhere else logs go to stderr (stdout carries command output),
/// coloured only when stderr is a terminal.
fn init_logging(command: &Command) {
    let subscriber = tracing_subscriber::fmt().with_env_filter(log_filter());
    if matches!(command, Command::Serve) {
        subscriber
            .with_ansi(false)
            .with_writer(
                std::io::stderr
                    .with_max_level(tracing::Level::WARN)
                    .or_else(std::io::stdout),
            )
            .init();
    } else {
        subscriber
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init();
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.command);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
