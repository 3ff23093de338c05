//! The chsim command line: `chsim serve`, `chsim check-config`, `chsim login`.
//!
//! Loads the configuration (the embedded demo unless `--config DIR`), builds the state and
//! serves. Configuration problems are reported all at once and end the process with exit code 1.

use chsim::clock::SystemClock;
use chsim::config::{self, ConfigReport, ConfigSource};
use chsim::{app, http};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "chsim",
    version,
    about = "Simulator of KOMBIT's Context Handler (SF1511)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve chsim (the embedded demo configuration unless --config is given).
    Serve {
        /// Configuration directory (chsim.toml, municipalities.toml, …).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Serve with the public demo keys from keys/ although server.public_url is not
        /// loopback (a shared test server that must never see real users). Insecure.
        #[arg(long)]
        insecure_demo_keys: bool,
    },
    /// Check a configuration and report every problem; exit code 1 when there are any.
    /// Warnings (a setup that works but is risky) are printed and leave the exit code 0.
    CheckConfig {
        /// Configuration directory.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Check as `chsim serve --insecure-demo-keys` would start.
        #[arg(long)]
        insecure_demo_keys: bool,
    },
    /// Write fresh RSA-3072 key pairs with self-signed certificates for chsim's signing and
    /// encryption keys into DIR (created if missing; existing files are never overwritten) and
    /// print the chsim.toml lines that use them.
    Keygen {
        /// Directory for broker-signing.{key,cert}.pem and broker-encryption.{key,cert}.pem.
        dir: PathBuf,
    },
    /// Drive one login headlessly through a running chsim and print the outcome. Exit code 0
    /// only when the user system was let in; 1 when chsim refused; 2 when the login could not
    /// be carried out.
    Login {
        /// chsim's base URL.
        #[arg(
            long,
            env = "CHSIM_PUBLIC_URL",
            default_value = "http://localhost:8080"
        )]
        url: String,
        /// The user system's entityID (one of chsim's demo user systems), or `demo-oidc` (the
        /// demo OIDC user system's client_id).
        #[arg(long)]
        user_system: String,
        /// The municipality's CVR (picks its IdP in the chooser).
        #[arg(long)]
        municipality: Option<String>,
        /// The test user's login name.
        #[arg(long)]
        user: String,
        /// The IdP's entityID (skips the chooser).
        #[arg(long)]
        idp: Option<String>,
        /// An AuthnContextClassRef the user system asks for, e.g.
        /// https://data.gov.dk/concept/core/nsis/loa/High (the OIDC system's acr_values).
        #[arg(long)]
        level: Option<String>,
        /// The user system asks with ForceAuthn (the OIDC system with prompt=login).
        #[arg(long)]
        force_authn: bool,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn source(dir: Option<PathBuf>) -> ConfigSource {
    dir.map(ConfigSource::Dir).unwrap_or(ConfigSource::Embedded)
}

/// The configuration's warnings and those about the trusted parties' metadata.
fn all_warnings(c: &config::Config, state: &http::AppState) -> Vec<config::ConfigProblem> {
    let mut warnings = config::warnings(c);
    warnings.extend(state.broker.trust().warnings.iter().cloned());
    warnings
}

async fn load_and_build(
    dir: Option<PathBuf>,
    insecure_demo_keys: bool,
) -> Result<(config::Config, app::AppState), ConfigReport> {
    app::load_and_build(source(dir), Arc::new(SystemClock), insecure_demo_keys).await
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Login {
            url,
            user_system,
            municipality,
            user,
            idp,
            level,
            force_authn,
            json,
        } => {
            let login = chsim::scripted::ScriptedLogin {
                base_url: url,
                user_system,
                municipality,
                idp,
                user,
                level,
                force_authn,
            };
            match chsim::scripted::run(&login).await {
                Ok(outcome) => {
                    if json {
                        match serde_json::to_string_pretty(&outcome) {
                            Ok(text) => println!("{text}"),
                            Err(e) => {
                                eprintln!("cannot write the outcome as JSON: {e}");
                                return ExitCode::from(2);
                            }
                        }
                    } else {
                        print!("{}", outcome.describe());
                    }
                    if outcome.admitted {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprintln!("the scripted login could not be carried out: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Keygen { dir } => match chsim::deployment::keygen::keygen(&dir) {
            Ok(files) => {
                println!(
                    "wrote fresh RSA-{} keys and self-signed certificates (valid {} days) into `{}`; use them in chsim.toml:\n",
                    chsim::deployment::keygen::RSA_BITS,
                    chsim::deployment::keygen::VALID_DAYS,
                    dir.display()
                );
                print!("{}", files.config_lines());
                println!("\nThen give municipal IdPs chsim's SP metadata (/runtime/saml2auth/metadata.idp) and user systems its IdP metadata (/runtime/saml2/metadata.idp) anew: both now carry the new certificates.");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("chsim keygen: {e}");
                ExitCode::FAILURE
            }
        },
        Command::CheckConfig {
            config,
            insecure_demo_keys,
        } => match load_and_build(config, insecure_demo_keys).await {
            Ok((c, state)) => {
                let warnings = all_warnings(&c, &state);
                if warnings.is_empty() {
                    println!("{} is valid", c.source.describe());
                } else {
                    println!(
                        "{} is valid, with {} warning{}:",
                        c.source.describe(),
                        warnings.len(),
                        if warnings.len() == 1 { "" } else { "s" }
                    );
                    for w in &warnings {
                        println!("  - warning: {w}");
                    }
                }
                ExitCode::SUCCESS
            }
            Err(report) => {
                eprint!("{report}");
                ExitCode::FAILURE
            }
        },
        Command::Serve {
            config,
            insecure_demo_keys,
        } => {
            let (c, state) = match load_and_build(config, insecure_demo_keys).await {
                Ok(v) => v,
                Err(report) => {
                    eprint!("chsim cannot start: {report}");
                    return ExitCode::FAILURE;
                }
            };
            for w in all_warnings(&c, &state) {
                tracing::warn!("{w}");
            }
            let listen = c.chsim.server.listen.clone();
            let listener = match tokio::net::TcpListener::bind(&listen).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("chsim cannot listen on {listen}: {e}; set server.listen in chsim.toml or CHSIM_LISTEN");
                    return ExitCode::FAILURE;
                }
            };
            tracing::info!(
                "chsim serves {} on http://{listen} — open {}/",
                c.source.describe(),
                c.public_url()
            );
            let app = http::app(state).into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
            {
                eprintln!("chsim stopped: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
    }
}
