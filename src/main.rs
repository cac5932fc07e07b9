//! The `eksync` command line. Parses arguments, runs one command, prints, and decides the exit code
//! in one place: 0 ok (no changes), 1 error, 2 changes present (live commands).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use eksync::adapters::aws::{
    AwsAdapter, AwsSettings, CredentialsSource, RetrySettings, WaitSettings,
};
use eksync::adapters::fs::{self as repo_fs, ReadOptions};
use eksync::adapters::kube::{KubeAdapter, KubeSettings};
use eksync::core::analysis::{self, Analysis};
use eksync::core::report::{self, PlanView};
use eksync::exec::{self, ExecOptions, LivePlan};

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

/// Where live state is and how to treat it.
#[derive(clap::Args)]
struct LiveArgs {
    /// kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// kubeconfig context to use.
    #[arg(long)]
    context: Option<String>,
    /// AWS region (default: the ClusterConfig's region, then the standard chain).
    #[arg(long, env = "AWS_REGION")]
    aws_region: Option<String>,
    /// AWS named profile.
    #[arg(long, env = "AWS_PROFILE")]
    aws_profile: Option<String>,
    /// Send every AWS call to this endpoint (AWS-compatible endpoints, local tests).
    #[arg(long, env = "EKSYNC_AWS_ENDPOINT_URL")]
    aws_endpoint_url: Option<String>,
    /// Report drift but change nothing that only corrects drift.
    #[arg(long)]
    detect_only: bool,
    /// Skip CloudFormation change-set previews.
    #[arg(long)]
    no_preview: bool,
    /// Steps run at once inside a wave.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Attempts per AWS call (1 turns retries off).
    #[arg(long, env = "EKSYNC_AWS_MAX_ATTEMPTS", default_value_t = 5)]
    aws_max_attempts: u32,
    /// First delay between polls while waiting for a step, in milliseconds.
    #[arg(long, env = "EKSYNC_POLL_MS", default_value_t = 2000)]
    poll_ms: u64,
    /// Wait at most this many seconds for any object to become healthy (default: per kind).
    #[arg(long, env = "EKSYNC_READINESS_TIMEOUT")]
    readiness_timeout: Option<u64>,
    /// Do not read or change AWS.
    #[arg(long)]
    no_aws: bool,
    /// Do not read or change Kubernetes.
    #[arg(long)]
    no_kubernetes: bool,
    /// Delete managed objects that left Git.
    #[arg(long)]
    prune: bool,
    /// Largest share of the inventory one run may prune (0 to 1).
    #[arg(long, default_value_t = 0.5)]
    prune_max_share: f64,
    /// Allow a prune above --prune-max-share.
    #[arg(long)]
    prune_allow_large: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Compare the repo with live AWS and Kubernetes state (exit 0: no changes, 2: changes).
    Diff {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        live: LiveArgs,
        #[arg(short, long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Apply the repo in dependency order, waiting for each step to be healthy.
    Apply {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        live: LiveArgs,
        #[arg(short, long, value_enum, default_value_t = Output::Text)]
        output: Output,
        /// Show what would change and stop.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask before changing anything.
        #[arg(long)]
        yes: bool,
    },
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
    Changes,
    Failed,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn connect_aws(a: &Analysis, live: &LiveArgs) -> Result<AwsAdapter> {
    if let Some(profile) = &live.aws_profile {
        // The standard credential chain reads the profile from the environment; this runs before
        // any other thread reads it.
        std::env::set_var("AWS_PROFILE", profile);
    }
    let region = live.aws_region.clone().or_else(|| {
        let regions: std::collections::BTreeSet<&str> = a
            .model
            .clusters
            .iter()
            .map(|c| c.config.metadata.region.as_str())
            .collect();
        (regions.len() == 1).then(|| regions.into_iter().next().unwrap_or_default().to_string())
    });
    AwsAdapter::connect(AwsSettings {
        region,
        endpoint_url: live.aws_endpoint_url.clone(),
        credentials: CredentialsSource::DefaultChain,
        max_concurrency: live.concurrency.max(1),
        retry: RetrySettings {
            max_attempts: live.aws_max_attempts.max(1),
            ..RetrySettings::default()
        },
        wait: WaitSettings {
            initial_delay: std::time::Duration::from_millis(live.poll_ms),
            max_delay: std::time::Duration::from_millis(live.poll_ms.max(1).saturating_mul(15)),
            ..WaitSettings::default()
        },
        ..AwsSettings::default()
    })
    .await
    .context("connecting to AWS")
}

async fn connect_kube(a: &Analysis, live: &LiveArgs) -> Result<Option<KubeAdapter>> {
    // An empty repo still reaches the cluster when pruning was asked for, so that the prune
    // guard can refuse loudly instead of nothing happening.
    if live.no_kubernetes || (a.model.objects.is_empty() && !live.prune) {
        return Ok(None);
    }
    let k = KubeAdapter::connect(KubeSettings {
        kubeconfig: live.kubeconfig.clone(),
        context: live.context.clone(),
        max_concurrency: live.concurrency.max(1) * 2,
        ..KubeSettings::default()
    })
    .await
    .context("connecting to Kubernetes")?;
    Ok(Some(k))
}

fn exec_options(live: &LiveArgs) -> ExecOptions {
    let mut readiness = exec::kube::ReadinessOptions {
        poll: std::time::Duration::from_millis(live.poll_ms),
        ..Default::default()
    };
    if let Some(secs) = live.readiness_timeout {
        let t = std::time::Duration::from_secs(secs);
        readiness.default = t;
        readiness.timeouts.values_mut().for_each(|v| *v = t);
    }
    ExecOptions {
        detect_only: live.detect_only,
        preview: !live.no_preview,
        concurrency: live.concurrency.max(1),
        prune: exec::kube::PruneOptions {
            enabled: live.prune,
            max_share: live.prune_max_share,
            allow_large: live.prune_allow_large,
        },
        readiness,
        progress: Some(progress_sink()),
    }
}

/// Progress on stderr: a spinner on a terminal, one plain line per event otherwise.
fn progress_sink() -> exec::ProgressSink {
    use exec::{Outcome as Step, Progress};
    use std::io::IsTerminal;
    let line = |p: &Progress| -> Option<String> {
        match p {
            Progress::WaveStarted { wave, waves, steps } => {
                Some(format!("wave {wave}/{waves}: {steps} step(s)"))
            }
            Progress::StepStarted { label } => {
                Some(format!("{label}: applying, then waiting until healthy"))
            }
            Progress::StepFinished {
                label,
                outcome,
                seconds,
            } => Some(match outcome {
                Step::Done { summary } => format!("{label}: done in {seconds}s ({summary})"),
                Step::Failed { reason } => format!("{label}: FAILED after {seconds}s: {reason}"),
                Step::Skipped { because } => format!("{label}: skipped ({because})"),
            }),
        }
    };
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        std::sync::Arc::new(move |p: &Progress| {
            if let Some(l) = line(p) {
                match p {
                    Progress::StepStarted { .. } => bar.set_message(l),
                    _ => bar.println(l),
                }
            }
        })
    } else {
        std::sync::Arc::new(move |p: &Progress| {
            if let Some(l) = line(p) {
                eprintln!("eksync: {l}");
            }
        })
    }
}

fn emit_live(p: &LivePlan, output: Output) -> Result<()> {
    match output {
        Output::Text => emit(&exec::report::text(p)),
        Output::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&exec::report::json(p))?
        )),
        Output::Markdown => emit(&exec::report::markdown(p)),
    }
}

fn confirm() -> Result<bool> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        return Ok(true);
    }
    eprint!("Apply these changes? [y/N] ");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the answer")?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
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
        Command::Diff { repo, live, output } => {
            let a = analyze(&repo)?;
            if a.has_errors() {
                eprint!("{}", report::diagnostics_text(&a.diagnostics));
                return Ok(Outcome::Invalid);
            }
            let rt = runtime()?;
            let p = rt.block_on(async {
                let aws = if live.no_aws {
                    None
                } else {
                    Some(connect_aws(&a, &live).await?)
                };
                let kube = connect_kube(&a, &live).await?;
                Ok::<_, anyhow::Error>(
                    exec::plan(
                        &a,
                        aws.as_ref(),
                        kube.as_ref(),
                        &exec_options(&live),
                        jiff::Timestamp::now(),
                    )
                    .await?,
                )
            })?;
            emit_live(&p, output)?;
            // Something that cannot be applied is an error the PR must see, not "no changes".
            Ok(if p.blocked() > 0 {
                Outcome::Failed
            } else if p.has_changes() {
                Outcome::Changes
            } else {
                Outcome::Ok
            })
        }
        Command::Apply {
            repo,
            live,
            output,
            dry_run,
            yes,
        } => {
            let a = analyze(&repo)?;
            if a.has_errors() {
                eprint!("{}", report::diagnostics_text(&a.diagnostics));
                return Ok(Outcome::Invalid);
            }
            let rt = runtime()?;
            let opts = exec_options(&live);
            let outcome = rt.block_on(async {
                let aws = if live.no_aws {
                    None
                } else {
                    Some(connect_aws(&a, &live).await?)
                };
                let kube = connect_kube(&a, &live).await?;
                let p = exec::plan(
                    &a,
                    aws.as_ref(),
                    kube.as_ref(),
                    &opts,
                    jiff::Timestamp::now(),
                )
                .await?;
                if !p.has_changes() {
                    emit_live(&p, output)?;
                    let outcome = if p.blocked() > 0 {
                        Outcome::Failed
                    } else {
                        Outcome::Ok
                    };
                    return Ok::<_, anyhow::Error>(outcome);
                }
                if dry_run {
                    emit_live(&p, output)?;
                    return Ok(Outcome::Changes);
                }
                if !yes && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                    eprint!("{}", exec::report::text(&p));
                    if !confirm()? {
                        eprintln!("nothing applied");
                        return Ok(Outcome::Ok);
                    }
                }
                let done = exec::apply(&a, p, aws.as_ref(), kube.as_ref(), &opts).await;
                emit_live(&done, output)?;
                Ok(if done.failed() > 0 {
                    Outcome::Failed
                } else {
                    Outcome::Changes
                })
            })?;
            Ok(outcome)
        }
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EKSYNC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) | Ok(Outcome::Failed) => ExitCode::from(1),
        Ok(Outcome::Changes) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
