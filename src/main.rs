//! The `eksync` command line. Parses arguments, runs one command, prints, and decides the exit code
//! in one place: 0 ok (no changes), 1 error, 2 changes present (live commands).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

use eksync::adapters::kube::KubeSettings;
use eksync::core::analysis::{self, Analysis};
use eksync::core::preview;
use eksync::core::report::{self, PlanView};
use eksync::core::source::{self, FileRules};
use eksync::exec::{self, LivePlan, Reconciler};
use eksync::session::{connect, keep_aws_cache, open_repo, source_name, LiveArgs, RepoArgs};

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

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum YamlOrJson {
    Yaml,
    Json,
}

/// The part of `eksync permissions` to print.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum PermissionsPart {
    /// Kubernetes RBAC and the AWS IAM policy.
    All,
    /// Only the Kubernetes objects (for `kubectl apply -f -`).
    Kubernetes,
    /// Only the IAM policy (for `aws iam put-role-policy`).
    Aws,
}

/// `eksync permissions` options.
#[derive(clap::Args)]
struct PermissionsFlags {
    #[arg(short, long, value_enum, default_value_t = YamlOrJson::Yaml)]
    output: YamlOrJson,
    /// Which part to print.
    #[arg(long = "for", value_enum, default_value_t = PermissionsPart::All)]
    part: PermissionsPart,
    /// The ServiceAccount the bindings name, as NAMESPACE/NAME.
    #[arg(long, default_value = "eksync-system/eksync", conflicts_with = "user")]
    service_account: String,
    /// Bind a user instead of a ServiceAccount.
    #[arg(long)]
    user: Option<String>,
    /// The source name (as for diff/apply).
    #[arg(long, env = "EKSYNC_SOURCE")]
    source: Option<String>,
    /// The CloudFormation service role the agent passes to CloudFormation (as for apply).
    #[arg(long, env = "EKSYNC_CFN_ROLE_ARN")]
    cfn_role_arn: Option<String>,
    /// Also grant list and delete on a kind that left the repo (KIND or KIND.GROUP), so that
    /// prune can remove its last objects. Repeatable.
    #[arg(long, value_name = "KIND[.GROUP]")]
    keep_kind: Vec<String>,
    /// Only what `eksync apply` needs: leave out the agent's own Sync object, Lease and
    /// Events.
    #[arg(long)]
    no_agent: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Subcommand)]
enum Command {
    /// Compare the repo with live AWS and Kubernetes state, or offline with another desired state
    /// (`--base-dir`): exit 0 no changes, 2 changes.
    Diff {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        live: LiveArgs,
        #[arg(short, long, value_enum, default_value_t = Output::Text)]
        output: Output,
        /// PR preview: compare the repo (the head) offline with the desired state of this folder
        /// (the base): added, removed and changed resources, order changes and risk flags.
        #[arg(long, value_name = "DIR", conflicts_with = "base")]
        base_dir: Option<PathBuf>,
        /// PR preview against a revision of the same Git repo (a branch such as `main`, a tag,
        /// a SHA): what merging the head would change, offline.
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// With --base: the head revision (default: the working tree, or --rev/--ref).
        #[arg(long, value_name = "REV", requires = "base")]
        head: Option<String>,
        /// With a preview: also write the full report (never cut to fit a comment) to FILE.
        #[arg(long, value_name = "FILE")]
        report_file: Option<PathBuf>,
        /// With a preview: also diff the head against live AWS and the cluster (change sets,
        /// server-side dry runs, drift), as a "Live" section of the same report. Takes the
        /// connection options of a live diff.
        #[arg(long = "live")]
        with_live: bool,
    },
    /// Re-validate and re-plan on every save while you edit a working copy (debounced); with
    /// --live, also diff against the cluster and AWS (read-only). Ctrl-C stops.
    Watch {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        live_args: LiveArgs,
        /// Also diff each run against live AWS and Kubernetes (read-only).
        #[arg(long)]
        live: bool,
        /// A run starts once the files were quiet for this many milliseconds.
        #[arg(long, default_value_t = 200)]
        debounce_ms: u64,
    },
    /// Run the sync agent: follow a Git source, reconcile each new commit (poll and webhook) and
    /// on a self-heal timer, with leader election, a status object, health and metrics.
    /// SIGTERM stops between steps.
    Agent(Box<eksync::agent::AgentArgs>),
    /// Print an agent's status (its Sync object): conditions, revisions, counts, last error.
    Status {
        /// The Sync object's name (the agent's source name).
        name: String,
        /// Its namespace.
        #[arg(long, default_value = "eksync-system")]
        namespace: String,
        /// kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).
        #[arg(long, env = "KUBECONFIG")]
        kubeconfig: Option<PathBuf>,
        /// kubeconfig context to use.
        #[arg(long)]
        context: Option<String>,
        #[arg(short, long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Print the least privilege eksync needs to reconcile this repo: Kubernetes ClusterRole,
    /// Roles and bindings (verbs per kind, bind/escalate by name) and the IAM policy for its
    /// role (actions scoped to the repo's stacks, roles and cluster), each rule with what needs it.
    Permissions {
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        flags: PermissionsFlags,
    },
    /// Explain why a resource sits in its wave: the chains of edges (with reasons) from the roots
    /// to it, and what waits for it.
    Why {
        /// `Kind[.group]/[namespace/]name`, `IAMRolePolicy/name`, `Stack/name` or a graph node id.
        resource: String,
        #[command(flatten)]
        repo: RepoArgs,
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
        /// The source name for the source label, as `diff`/`apply` take it (default: `spec.source`
        /// in eksync.yaml, else derived from the repo folder's name).
        #[arg(long, env = "EKSYNC_SOURCE")]
        source: Option<String>,
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
    Ok(analyze_rev(repo)?.0)
}

/// The analysis and the Git revision it read, if it read one.
fn analyze_rev(repo: &RepoArgs) -> Result<(Analysis, Option<source::Revision>)> {
    let opened = open_repo(repo)?;
    Ok((analysis::analyze(&opened.source), opened.revision))
}

fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .context("writing to stdout")?;
    Ok(())
}

/// The analysis, or `None` after printing its errors.
fn analyze_valid(repo: &RepoArgs) -> Result<Option<Analysis>> {
    Ok(analyze_valid_rev(repo)?.map(|(a, _)| a))
}

/// The analysis and its revision, or `None` after printing its errors.
fn analyze_valid_rev(repo: &RepoArgs) -> Result<Option<(Analysis, Option<source::Revision>)>> {
    let (a, revision) = analyze_rev(repo)?;
    if a.has_errors() {
        eprint!("{}", report::diagnostics_text(&a.diagnostics));
        return Ok(None);
    }
    Ok(Some((a, revision)))
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

/// Where a PR preview goes: stdout in one format, and the full report to a file if asked.
struct PreviewOutput {
    output: Output,
    report_file: Option<PathBuf>,
}

/// `--live` on a preview: the head is also diffed against live AWS and the cluster, with the
/// connection options of a live diff; `repo` names the source as `eksync diff REPO` does.
struct LivePreview<'a> {
    repo: &'a RepoArgs,
    args: &'a LiveArgs,
}

/// The head's live plan for `--live`, named after the head's revision.
fn live_plan_of(
    head: &Analysis,
    revision: Option<source::Revision>,
    live: &LivePreview,
) -> Result<LivePlan> {
    let mut p = runtime()?.block_on(async {
        let r = connect(head, live.repo, live.args, Some(progress_sink())).await?;
        let p = r.diff(head, jiff::Timestamp::now()).await;
        keep_aws_cache(&r);
        Ok::<_, anyhow::Error>(p?)
    })?;
    p.revision = revision;
    Ok(p)
}

/// The offline PR preview between two sources, printed: 0 no change, 2 changes, 1 when a side
/// does not load (its diagnostics are printed). Every way of reading the two revisions
/// (folders, Git revisions) ends here.
fn preview_between(
    base: source::Source,
    head: (source::Source, Option<source::Revision>),
    labels: preview::Labels,
    out: &PreviewOutput,
    live: Option<&LivePreview>,
) -> Result<Outcome> {
    let (head, head_revision) = head;
    let (base, head) = match preview::analyze_sides(&base, &head) {
        Ok(sides) => sides,
        Err(preview::PreviewError::Invalid { side, diagnostics }) => {
            let label = match side {
                preview::Side::Base => &labels.base,
                preview::Side::Head => &labels.head,
            };
            eprintln!("the {side} revision ({label}) does not load:");
            eprint!("{}", report::diagnostics_text(&diagnostics));
            return Ok(Outcome::Invalid);
        }
        Err(e) => return Err(e.into()),
    };
    let p = preview::compare(&base, &head).with_labels(labels);
    drop(base);
    let live = match live {
        Some(l) => Some(
            live_plan_of(&head, head_revision, l)
                .context("--live: diffing the head against live AWS and the cluster")?,
        ),
        None => None,
    };
    let render = |limit: Option<usize>| -> Result<String> {
        if let Some(lp) = &live {
            return Ok(match out.output {
                Output::Text => exec::report::preview_with_live_text(&p, lp),
                Output::Json => format!(
                    "{}\n",
                    serde_json::to_string_pretty(&exec::report::preview_with_live_json(&p, lp))?
                ),
                Output::Markdown => exec::report::preview_with_live_markdown(&p, lp, limit),
            });
        }
        Ok(match out.output {
            Output::Text => preview::render::text(&p),
            Output::Json => format!(
                "{}\n",
                serde_json::to_string_pretty(&preview::render::json(&p))?
            ),
            Output::Markdown => {
                preview::render::markdown(&p, &preview::render::MarkdownOptions { limit })
            }
        })
    };
    if let Some(file) = &out.report_file {
        std::fs::write(file, render(None)?)
            .with_context(|| format!("writing the report to {}", file.display()))?;
    }
    emit(&render(Some(preview::render::GITHUB_COMMENT_LIMIT))?)?;
    // A blocked live item is an error; a change on either side is a change.
    Ok(match live.as_ref().map(plan_outcome) {
        Some(Outcome::Failed) => Outcome::Failed,
        Some(Outcome::Changes) => Outcome::Changes,
        _ if p.has_changes() => Outcome::Changes,
        _ => Outcome::Ok,
    })
}

/// `diff --base-dir DIR [REPO]`: the folder is the base, the repo (as every command reads it)
/// the head.
fn cmd_preview_dirs(
    base_dir: &std::path::Path,
    repo: RepoArgs,
    out: &PreviewOutput,
    live: Option<&LiveArgs>,
) -> Result<Outcome> {
    let rules = FileRules {
        max_file_size: repo.max_file_size,
    };
    let base = eksync::adapters::fs::read_dir(base_dir, &rules)
        .with_context(|| format!("reading base {}", base_dir.display()))?;
    let head = open_repo(&repo)?;
    let mut head_label = repo.repo.display().to_string();
    if let Some(rev) = repo.git.rev.as_ref().or(repo.git.git_ref.as_ref()) {
        head_label = format!("{head_label}@{rev}");
    }
    let labels = preview::Labels {
        base: base_dir.display().to_string(),
        head: head_label,
    };
    let live = live.map(|args| LivePreview { repo: &repo, args });
    preview_between(
        base,
        (head.source, head.revision),
        labels,
        out,
        live.as_ref(),
    )
}

/// The repo at another revision, read the same way (local repo or remote).
fn at_revision(repo: &RepoArgs, rev: &str) -> RepoArgs {
    let mut other = repo.clone();
    other.git.rev = Some(rev.to_string());
    other.git.git_ref = None;
    other
}

/// How a side of a preview is named: the revision asked for, its commit and subject.
fn revision_label(asked: &str, revision: Option<&source::Revision>) -> String {
    match revision {
        Some(r) => format!(
            "{} @ {} \"{}\"",
            r.reference,
            r.short_commit(),
            eksync::core::text::clip(&r.subject, 72)
        ),
        None => asked.to_string(),
    }
}

/// `diff --base REV [--head REV] [REPO]`: two revisions of the same repo, compared offline.
fn cmd_preview_revs(
    base_rev: &str,
    head_rev: Option<&str>,
    repo: RepoArgs,
    out: &PreviewOutput,
    live: Option<&LiveArgs>,
) -> Result<Outcome> {
    let base = open_repo(&at_revision(&repo, base_rev))
        .with_context(|| format!("reading the base revision {base_rev}"))?;
    let head_args = match head_rev {
        Some(rev) => at_revision(&repo, rev),
        None => repo.clone(),
    };
    let head = open_repo(&head_args).context("reading the head revision")?;
    let head_asked = head_rev
        .map(str::to_string)
        .or_else(|| repo.git.rev.clone().or(repo.git.git_ref.clone()))
        .unwrap_or_else(|| format!("{} (working tree)", repo.repo.display()));
    let labels = preview::Labels {
        base: revision_label(base_rev, base.revision.as_ref()),
        head: revision_label(&head_asked, head.revision.as_ref()),
    };
    let live = live.map(|args| LivePreview { repo: &repo, args });
    preview_between(
        base.source,
        (head.source, head.revision),
        labels,
        out,
        live.as_ref(),
    )
}

fn cmd_watch(repo: RepoArgs, live_args: LiveArgs, live: bool, debounce_ms: u64) -> Result<Outcome> {
    anyhow::ensure!(
        repo.git.rev.is_none() && repo.git.git_ref.is_none(),
        "watch follows the files on disk: --rev and --ref do not apply"
    );
    let opts = eksync::watch::WatchOptions {
        debounce: std::time::Duration::from_millis(debounce_ms),
        rules: FileRules {
            max_file_size: repo.max_file_size,
        },
        redraw: std::io::IsTerminal::is_terminal(&std::io::stdout()),
    };
    runtime()?.block_on(async {
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let analyze = || analyze(&repo);
        let runs = if live {
            // Connected once, from the first analysis; each run diffs read-only.
            let first = analyze()?;
            let r = connect(&first, &repo, &live_args, Some(progress_sink())).await?;
            let diff = |a: Analysis| {
                let r = &r;
                async move {
                    match r.diff(&a, jiff::Timestamp::now()).await {
                        Ok(p) => exec::report::text(&p),
                        Err(e) => format!("live diff failed: {:#}\n", anyhow::Error::new(e)),
                    }
                }
            };
            eksync::watch::run(&repo.repo, &opts, analyze, Some(diff), stop).await?
        } else {
            let none: Option<fn(Analysis) -> std::future::Ready<String>> = None;
            eksync::watch::run(&repo.repo, &opts, analyze, none, stop).await?
        };
        eprintln!("eksync watch: stopped after {runs} run(s)");
        Ok(Outcome::Ok)
    })
}

fn cmd_permissions(repo: RepoArgs, f: PermissionsFlags) -> Result<Outcome> {
    use eksync::core::permissions::{self, Part, Subject};
    let subject = match f.user {
        Some(name) => Subject::User { name },
        None => {
            let (namespace, name) = f
                .service_account
                .split_once('/')
                .filter(|(ns, n)| !ns.is_empty() && !n.is_empty() && !n.contains('/'))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--service-account takes NAMESPACE/NAME, not {:?}",
                        f.service_account
                    )
                })?;
            Subject::ServiceAccount {
                namespace: namespace.to_string(),
                name: name.to_string(),
            }
        }
    };
    let extra_kinds = f
        .keep_kind
        .iter()
        .map(|k| match k.split_once('.') {
            Some((kind, group)) => (group.to_string(), kind.to_string()),
            None => (String::new(), k.clone()),
        })
        .collect();
    let Some(a) = analyze_valid(&repo)? else {
        return Ok(Outcome::Invalid);
    };
    let opts = permissions::Options {
        source: source_name(&a, &repo, f.source.as_deref())?,
        inventory_namespace: KubeSettings::default().inventory_namespace,
        subject,
        cfn_role: f.cfn_role_arn,
        extra_kinds,
        agent: !f.no_agent,
    };
    let p = permissions::permissions(&a, &opts);
    let part = match f.part {
        PermissionsPart::All => Part::All,
        PermissionsPart::Kubernetes => Part::Kubernetes,
        PermissionsPart::Aws => Part::Aws,
    };
    match f.output {
        YamlOrJson::Yaml => emit(&permissions::to_yaml(&p, part))?,
        YamlOrJson::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&permissions::to_json(&p, part))?
        ))?,
    }
    Ok(Outcome::Ok)
}

fn cmd_why(resource: &str, repo: RepoArgs, output: Output) -> Result<Outcome> {
    let Some(a) = analyze_valid(&repo)? else {
        return Ok(Outcome::Invalid);
    };
    let w = preview::why(&a, resource)?;
    match output {
        Output::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&w)?))?,
        _ => emit(&preview::why_text(&w))?,
    }
    Ok(Outcome::Ok)
}

fn cmd_diff(repo: RepoArgs, live: LiveArgs, output: Output) -> Result<Outcome> {
    let Some((a, revision)) = analyze_valid_rev(&repo)? else {
        return Ok(Outcome::Invalid);
    };
    let mut p = runtime()?.block_on(async {
        let r = connect(&a, &repo, &live, Some(progress_sink())).await?;
        let p = r.diff(&a, jiff::Timestamp::now()).await;
        keep_aws_cache(&r);
        Ok::<_, anyhow::Error>(p?)
    })?;
    p.revision = revision;
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
    let Some((a, revision)) = analyze_valid_rev(&repo)? else {
        return Ok(Outcome::Invalid);
    };
    runtime()?.block_on(async {
        let r = connect(&a, &repo, &live, Some(progress_sink())).await?;
        let outcome = diff_and_apply(&r, &a, revision, output, dry_run, yes).await;
        keep_aws_cache(&r);
        outcome
    })
}

async fn diff_and_apply(
    r: &Reconciler,
    a: &Analysis,
    revision: Option<source::Revision>,
    output: Output,
    dry_run: bool,
    yes: bool,
) -> Result<Outcome> {
    let mut p = r.diff(a, jiff::Timestamp::now()).await?;
    // The revision travels with the plan: reports name it and the apply records it.
    p.revision = revision;
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
    let done = r.apply(a, p, &cancel).await;
    emit_live(&done, output)?;
    Ok(if done.failed() > 0 || done.cancelled {
        Outcome::Failed
    } else {
        Outcome::Changes
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
    let (a, rev) = analyze_rev(&repo)?;
    match output {
        Output::Json => emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({ "diagnostics": a.diagnostics }))?
        ))?,
        _ => {
            eprint!("{}", report::diagnostics_text(&a.diagnostics));
            if !a.has_errors() {
                if let Some(rev) = &rev {
                    emit(&format!("{}\n", rev.text_line()))?;
                }
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
    let (a, rev) = analyze_rev(&repo)?;
    let view = PlanView { explain };
    match output {
        Output::Json => {
            let mut json = report::plan_json(&a);
            if let (Some(rev), Some(obj)) = (&rev, json.as_object_mut()) {
                obj.insert("revision".into(), serde_json::to_value(rev)?);
            }
            emit(&format!("{}\n", serde_json::to_string_pretty(&json)?))?
        }
        Output::Markdown => {
            let md = report::plan_markdown(&a, view);
            emit(&match (&rev, md.split_once("\n\n")) {
                (Some(rev), Some((title, rest))) => {
                    format!("{title}\n\n{}\n\n{rest}", rev.markdown_line())
                }
                _ => md,
            })?
        }
        Output::Text => {
            eprint!("{}", report::diagnostics_text(&a.diagnostics));
            if !a.has_errors() {
                if let Some(rev) = &rev {
                    emit(&format!("{}\n", rev.text_line()))?;
                }
                emit(&report::plan_text(&a, view))?;
            }
        }
    }
    Ok(errors_outcome(&a))
}

fn cmd_render(repo: RepoArgs, source: Option<String>) -> Result<Outcome> {
    let a = analyze(&repo)?;
    eprint!("{}", report::diagnostics_text(&a.diagnostics));
    if !a.has_errors() {
        let source = source_name(&a, &repo, source.as_deref())?;
        emit(&report::render_stream(&a, Some(&source)))?;
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

/// The connection options for `--live` on a preview, or `None` without it; a live preview
/// that could read neither AWS nor Kubernetes is refused rather than shown as "no changes".
fn preview_live(live: &LiveArgs, with_live: bool) -> Result<Option<&LiveArgs>> {
    if !with_live {
        return Ok(None);
    }
    anyhow::ensure!(
        !(live.no_aws && live.no_kubernetes),
        "--live with both --no-aws and --no-kubernetes reads nothing live"
    );
    Ok(Some(live))
}

fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Diff {
            repo,
            live,
            output,
            base_dir: Some(base_dir),
            report_file,
            with_live,
            ..
        } => cmd_preview_dirs(
            &base_dir,
            repo,
            &PreviewOutput {
                output,
                report_file,
            },
            preview_live(&live, with_live)?,
        ),
        Command::Diff {
            repo,
            live,
            output,
            base: Some(base),
            head,
            report_file,
            with_live,
            ..
        } => cmd_preview_revs(
            &base,
            head.as_deref(),
            repo,
            &PreviewOutput {
                output,
                report_file,
            },
            preview_live(&live, with_live)?,
        ),
        Command::Diff {
            report_file: Some(_),
            ..
        } => anyhow::bail!("--report-file goes with a preview (--base or --base-dir)"),
        Command::Diff {
            with_live: true, ..
        } => anyhow::bail!(
            "--live goes with a preview (--base or --base-dir); `eksync diff REPO` alone already diffs against live state"
        ),
        Command::Diff {
            repo, live, output, ..
        } => cmd_diff(repo, live, output),
        Command::Watch {
            repo,
            live_args,
            live,
            debounce_ms,
        } => cmd_watch(repo, live_args, live, debounce_ms),
        Command::Why {
            resource,
            repo,
            output,
        } => cmd_why(&resource, repo, output),
        Command::Agent(args) => {
            runtime()?.block_on(async { eksync::agent::run(*args, cancel_on_signal()).await })?;
            Ok(Outcome::Ok)
        }
        Command::Status {
            name,
            namespace,
            kubeconfig,
            context,
            output,
        } => cmd_status(name, namespace, kubeconfig, context, output),
        Command::Permissions { repo, flags } => cmd_permissions(repo, flags),
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
        Command::Render { repo, source } => cmd_render(repo, source),
        Command::Graph { repo, format } => cmd_graph(repo, format),
    }
}

/// Logs on stderr, filtered by `EKSYNC_LOG`. The agent logs at `info` by default, as JSON lines
/// unless stderr is a terminal (in the cluster); commands log warnings only, for people.
fn init_logs(agent: bool) {
    use std::io::IsTerminal;
    let default = if agent { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("EKSYNC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if agent && !std::io::stderr().is_terminal() {
        fmt.json().flatten_event(true).init();
    } else {
        fmt.init();
    }
}

fn cmd_status(
    name: String,
    namespace: String,
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    output: Output,
) -> Result<Outcome> {
    use eksync::agent::status::{self, SyncRef};
    let status = runtime()?.block_on(async {
        let kube = eksync::adapters::kube::KubeAdapter::connect(KubeSettings {
            kubeconfig,
            context,
            ..KubeSettings::default()
        })
        .await
        .context("connecting to Kubernetes")?;
        let s = SyncRef {
            namespace: namespace.clone(),
            name: name.clone(),
        };
        status::read(&kube, &s)
            .await
            .with_context(|| format!("reading Sync {namespace}/{name}"))
    })?;
    let Some(status) = status else {
        anyhow::bail!("Sync {namespace}/{name} has no status yet (is its agent running?)");
    };
    match output {
        Output::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&status)?))?,
        _ => emit(&eksync::agent::status::text(&name, &status))?,
    }
    let ready = status
        .condition(eksync::core::agent::READY)
        .is_some_and(|c| c.status == "True");
    Ok(if ready { Outcome::Ok } else { Outcome::Failed })
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
    init_logs(matches!(cli.command, Command::Agent(_)));
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) | Ok(Outcome::Failed) => ExitCode::from(1),
        Ok(Outcome::Changes) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {}", eksync::errors::error_chain(e.as_ref()));
            ExitCode::from(1)
        }
    }
}
