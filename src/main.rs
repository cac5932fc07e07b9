//! The `eksync` command line. Parses arguments, runs one command, prints, and decides the exit code
//! in one place: 0 ok (no changes), 1 error, 2 changes present (live commands).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use eksync::adapters::aws::{
    AwsAdapter, AwsSettings, CredentialsSource, RetrySettings, WaitSettings,
};
use eksync::adapters::fs as repo_fs;
use eksync::adapters::kube::{KubeAdapter, KubeSettings};
use eksync::core::analysis::{self, Analysis};
use eksync::core::report::{self, PlanView};
use eksync::core::source::{self, FileRules};
use eksync::exec::{self, ExecOptions, LivePlan, Reconciler};

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
    #[arg(long, default_value_t = source::DEFAULT_MAX_FILE_SIZE)]
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
    /// Steps in flight at once.
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
    /// The source name that labels this repo's objects and names its inventory (default:
    /// `spec.source` in eksync.yaml, else derived from the repo folder's name).
    #[arg(long, env = "EKSYNC_SOURCE")]
    source: Option<String>,
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

/// The region: the flag, else the repo's one region, else the SDK's chain.
fn aws_region(a: &Analysis, live: &LiveArgs) -> Option<String> {
    if live.aws_region.is_some() {
        return live.aws_region.clone();
    }
    let regions: std::collections::BTreeSet<&str> = a
        .model
        .clusters
        .iter()
        .map(|c| c.config.metadata.region.as_str())
        .collect();
    match regions.len() {
        1 => regions.into_iter().next().map(str::to_string),
        _ => None,
    }
}

async fn connect_aws(a: &Analysis, live: &LiveArgs) -> Result<Option<AwsAdapter>> {
    if live.no_aws {
        return Ok(None);
    }
    let credentials = match &live.aws_profile {
        Some(profile) => CredentialsSource::Profile(profile.clone()),
        None => CredentialsSource::DefaultChain,
    };
    let adapter = AwsAdapter::connect(AwsSettings {
        region: aws_region(a, live),
        endpoint_url: live.aws_endpoint_url.clone(),
        credentials,
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
    .context("connecting to AWS")?;
    Ok(Some(adapter))
}

/// The source name: the flag, else `eksync.yaml`, else derived from the repo folder's name.
fn source_name(a: &Analysis, repo: &RepoArgs, live: &LiveArgs) -> Result<String> {
    if let Some(name) = &live.source {
        anyhow::ensure!(
            source::valid_source_name(name),
            "--source `{name}` must be lowercase letters, digits and `-`, start and end with a letter or digit, at most {} characters",
            source::MAX_SOURCE_NAME
        );
        return Ok(name.clone());
    }
    if let Some(name) = &a.model.settings.source {
        return Ok(name.clone());
    }
    let dir = std::fs::canonicalize(&repo.repo)
        .with_context(|| format!("reading repo {}", repo.repo.display()))?;
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(source::derive_source_name(&base))
}

async fn connect_kube(
    a: &Analysis,
    live: &LiveArgs,
    source: String,
) -> Result<Option<KubeAdapter>> {
    // An empty repo still reaches the cluster when pruning was asked for, so that the prune
    // guard can refuse loudly instead of nothing happening.
    if live.no_kubernetes || (a.model.objects.is_empty() && !live.prune) {
        return Ok(None);
    }
    let k = KubeAdapter::connect(KubeSettings {
        kubeconfig: live.kubeconfig.clone(),
        context: live.context.clone(),
        max_concurrency: live.concurrency.max(1) * 2,
        source,
        ..KubeSettings::default()
    })
    .await
    .context("connecting to Kubernetes")?;
    Ok(Some(k))
}

/// Connects once: the reconciler owns both adapters for the rest of the command.
async fn connect(a: &Analysis, repo: &RepoArgs, live: &LiveArgs) -> Result<Reconciler> {
    let source = source_name(a, repo, live)?;
    let aws = connect_aws(a, live).await?;
    let kube = connect_kube(a, live, source).await?;
    Ok(Reconciler::new(aws, kube, exec_options(live)))
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
        prune: exec::PruneOptions {
            enabled: live.prune,
            max_share: live.prune_max_share,
            allow_large: live.prune_allow_large,
        },
        readiness,
        progress: Some(progress_sink()),
    }
}

fn progress_line(p: &exec::Progress) -> String {
    use exec::{Outcome as Step, Progress};
    match p {
        Progress::RunStarted { steps, waves } => {
            format!("{steps} step(s) over {waves} wave(s); each starts once what it waits for is healthy")
        }
        Progress::StepStarted { label } => {
            format!("{label}: applying, then waiting until healthy")
        }
        Progress::StepFinished {
            label,
            outcome,
            seconds,
        } => match outcome {
            Step::Done { summary } => format!("{label}: done in {seconds}s ({summary})"),
            Step::Failed { reason } => format!("{label}: FAILED after {seconds}s: {reason}"),
            Step::Skipped { because } => format!("{label}: skipped ({because})"),
            Step::Cancelled { because } => format!("{label}: cancelled ({because})"),
        },
        Progress::Cancelling { running } => {
            format!("cancelling: nothing new starts; {running} step(s) in flight stop waiting")
        }
    }
}

/// Progress on stderr: a spinner on a terminal, one plain line per event otherwise.
fn progress_sink() -> exec::ProgressSink {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        std::sync::Arc::new(move |p: &exec::Progress| {
            let l = progress_line(p);
            match p {
                exec::Progress::StepStarted { .. } => bar.set_message(l),
                _ => bar.println(l),
            }
        })
    } else {
        std::sync::Arc::new(move |p: &exec::Progress| eprintln!("eksync: {}", progress_line(p)))
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
    use std::io::BufRead;
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
        &FileRules {
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

/// The analysis, or `None` after printing its errors.
fn analyze_valid(repo: &RepoArgs) -> Result<Option<Analysis>> {
    let a = analyze(repo)?;
    if a.has_errors() {
        eprint!("{}", report::diagnostics_text(&a.diagnostics));
        return Ok(None);
    }
    Ok(Some(a))
}

/// A token cancelled by the first SIGINT or SIGTERM: the run starts nothing new, stops waiting,
/// writes its inventory and reports itself cancelled. A second signal is left to the default.
fn cancel_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        eprintln!("eksync: cancel requested; finishing the steps in flight");
        t.cancel();
    });
    token
}

/// Blocked items are an error a PR must see, not "no changes".
fn plan_outcome(p: &LivePlan) -> Outcome {
    if p.blocked() > 0 {
        Outcome::Failed
    } else if p.has_changes() {
        Outcome::Changes
    } else {
        Outcome::Ok
    }
}

fn cmd_diff(repo: RepoArgs, live: LiveArgs, output: Output) -> Result<Outcome> {
    let Some(a) = analyze_valid(&repo)? else {
        return Ok(Outcome::Invalid);
    };
    let p = runtime()?.block_on(async {
        let r = connect(&a, &repo, &live).await?;
        Ok::<_, anyhow::Error>(r.diff(&a, jiff::Timestamp::now()).await?)
    })?;
    emit_live(&p, output)?;
    Ok(plan_outcome(&p))
}

fn cmd_apply(
    repo: RepoArgs,
    live: LiveArgs,
    output: Output,
    dry_run: bool,
    yes: bool,
) -> Result<Outcome> {
    let Some(a) = analyze_valid(&repo)? else {
        return Ok(Outcome::Invalid);
    };
    runtime()?.block_on(async {
        let r = connect(&a, &repo, &live).await?;
        let p = r.diff(&a, jiff::Timestamp::now()).await?;
        if !p.has_changes() || dry_run {
            emit_live(&p, output)?;
            return Ok(match plan_outcome(&p) {
                Outcome::Changes if !dry_run => Outcome::Ok,
                other => other,
            });
        }
        if !yes && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            eprint!("{}", exec::report::text(&p));
            if !confirm()? {
                eprintln!("nothing applied");
                return Ok(Outcome::Ok);
            }
        }
        let cancel = cancel_on_signal();
        let done = r.apply(&a, p, &cancel).await;
        emit_live(&done, output)?;
        Ok(if done.failed() > 0 || done.cancelled {
            Outcome::Failed
        } else {
            Outcome::Changes
        })
    })
}

fn errors_outcome(a: &Analysis) -> Outcome {
    if a.has_errors() {
        Outcome::Invalid
    } else {
        Outcome::Ok
    }
}

fn cmd_validate(repo: RepoArgs, output: Output) -> Result<Outcome> {
    let a = analyze(&repo)?;
    match output {
        Output::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({ "diagnostics": a.diagnostics }))?
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
    Ok(errors_outcome(&a))
}

fn cmd_plan(repo: RepoArgs, output: Output, explain: bool) -> Result<Outcome> {
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
    Ok(errors_outcome(&a))
}

fn cmd_render(repo: RepoArgs) -> Result<Outcome> {
    let a = analyze(&repo)?;
    eprint!("{}", report::diagnostics_text(&a.diagnostics));
    if !a.has_errors() {
        emit(&report::render_stream(&a))?;
    }
    Ok(errors_outcome(&a))
}

fn cmd_graph(repo: RepoArgs, format: GraphFormat) -> Result<Outcome> {
    let a = analyze(&repo)?;
    eprint!("{}", report::diagnostics_text(&a.diagnostics));
    emit(&match format {
        GraphFormat::Dot => report::graph_dot(&a.graph),
        GraphFormat::Mermaid => report::graph_mermaid(&a.graph),
    })?;
    Ok(errors_outcome(&a))
}

fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Diff { repo, live, output } => cmd_diff(repo, live, output),
        Command::Apply {
            repo,
            live,
            output,
            dry_run,
            yes,
        } => cmd_apply(repo, live, output, dry_run, yes),
        Command::Validate { repo, output } => cmd_validate(repo, output),
        Command::Plan {
            repo,
            output,
            explain,
        } => cmd_plan(repo, output, explain),
        Command::Render { repo } => cmd_render(repo),
        Command::Graph { repo, format } => cmd_graph(repo, format),
    }
}

fn main() -> ExitCode {
    // A usage error exits 1 like every other error: 2 means "changes present".
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
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
