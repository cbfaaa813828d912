use clap::Parser;
use pizza_pipeline::cli::{run, Cli};
use tracing_subscriber::EnvFilter;

/// `PIZZA_LOG` (default `info`); the Azure SDK's per-request lines stay at `warn` unless
/// `PIZZA_LOG` names its targets itself.
fn log_filter() -> EnvFilter {
    let directives = std::env::var("PIZZA_LOG").unwrap_or_else(|_| "info".into());
    EnvFilter::try_new(format!("typespec_client_core=warn,{directives}"))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        .init();
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
