//! The `eksync` command line. Parses arguments, runs one command, prints, and decides the exit code
//! in one place: 0 ok (no changes), 1 error, 2 changes present (live commands).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use eksync::adapters::fs::{self as repo_fs, ReadOptions};
use eksync::core::analysis::{self, Analysis};
use eksync::core::report::{self, PlanView};

#[derive(Parser)]
#[command(
    name = "eksync",
    version,
    about = "GitOps for EKS: one ordered plan over CloudFormation, IAM and Kubernetes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Output {
    Text,
    Json,
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(clap::Args)]
struct RepoArgs {
    /// The repo directory.
    #[arg(default_value = ".")]
    repo: PathBuf,
    /// Files larger than this many bytes are not read (and reported).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_file_size: u64,
}

#[derive(Subcommand)]
enum Command {
    /// Load the repo and report every problem, with file, document and line.
    Validate {
        #[command(flatten)]
        repo: RepoArgs,
        #[arg(short, long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Show the order eksync would apply the repo in, offline (no cloud account needed).
    Plan {
        #[command(flatten)]
        repo: RepoArgs,
        #[arg(short, long, value_enum, default_value_t = Output::Text)]
        output: Output,
        /// Say why each resource waits for the ones before it.
        #[arg(long)]
        explain: bool,
    },
    /// Print every stack template and manifest as it would be sent (values from AWS show as
    /// "known after apply"; Secret data is masked).
    Render {
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Print the dependency graph.
    Graph {
        #[command(flatten)]
        repo: RepoArgs,
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
}

/// What a command concluded, mapped to an exit code by `main` alone.
enum Outcome {
    Ok,
    Invalid,
}

fn analyze(repo: &RepoArgs) -> Result<Analysis> {
    let src = repo_fs::read_dir(
        &repo.repo,
        &ReadOptions {
            max_file_size: repo.max_file_size,
        },
    )
    .with_context(|| format!("reading repo {}", repo.repo.display()))?;
    Ok(analysis::analyze(&src))
}

fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .context("writing to stdout")?;
    Ok(())
}

fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Validate { repo, output } => {
            let a = analyze(&repo)?;
            match output {
                Output::Json => emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "diagnostics": a.diagnostics })
                    )?
                ))?,
                _ => {
                    eprint!("{}", report::diagnostics_text(&a.diagnostics));
                    if !a.has_errors() {
                        emit(&format!(
                            "ok: {} clusters, {} IAM role policies, {} Kubernetes objects\n",
                            a.model.clusters.len(),
                            a.model.role_policies.len(),
                            a.model.objects.len()
                        ))?;
                    }
                }
            }
            Ok(if a.has_errors() {
                Outcome::Invalid
            } else {
                Outcome::Ok
            })
        }
        Command::Plan {
            repo,
            output,
            explain,
        } => {
            let a = analyze(&repo)?;
            let view = PlanView { explain };
            match output {
                Output::Json => emit(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&report::plan_json(&a))?
                ))?,
                Output::Markdown => emit(&report::plan_markdown(&a, view))?,
                Output::Text => {
                    eprint!("{}", report::diagnostics_text(&a.diagnostics));
                    if !a.has_errors() {
                        emit(&report::plan_text(&a, view))?;
                    }
                }
            }
            Ok(if a.has_errors() {
                Outcome::Invalid
            } else {
                Outcome::Ok
            })
        }
        Command::Render { repo } => {
            let a = analyze(&repo)?;
            eprint!("{}", report::diagnostics_text(&a.diagnostics));
            if !a.has_errors() {
                emit(&report::render_stream(&a))?;
            }
            Ok(if a.has_errors() {
                Outcome::Invalid
            } else {
                Outcome::Ok
            })
        }
        Command::Graph { repo, format } => {
            let a = analyze(&repo)?;
            eprint!("{}", report::diagnostics_text(&a.diagnostics));
            emit(&match format {
                GraphFormat::Dot => report::graph_dot(&a.graph),
                GraphFormat::Mermaid => report::graph_mermaid(&a.graph),
            })?;
            Ok(if a.has_errors() {
                Outcome::Invalid
            } else {
                Outcome::Ok
            })
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
