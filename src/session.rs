//! How commands reach their repo and the live systems: the shared command-line options (the
//! repo and how to read it, the live connections and how to treat them) and the one way each is
//! opened or connected, for the CLI commands and the agent alike. No printing and no policy:
//! callers decide what to show and what to do with the result.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::adapters::aws::{
    AwsAdapter, AwsSettings, CredentialsSource, RetrySettings, WaitSettings,
};
use crate::adapters::kube::{KubeAdapter, KubeSettings};
use crate::adapters::repo as repo_open;
use crate::core::analysis::Analysis;
use crate::core::source::{self, FileRules};
use crate::exec::{self, ExecOptions, ProgressSink, Reconciler};

#[derive(clap::Args, Clone)]
pub struct RepoArgs {
    /// The repo: a directory, a local Git repository (with --rev), or a remote Git URL (https://,
    /// ssh://, git@host:org/repo.git, git://, file://; with --ref).
    #[arg(default_value = ".")]
    pub repo: PathBuf,
    /// Files larger than this many bytes are not read (and reported).
    #[arg(long, default_value_t = source::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    #[command(flatten)]
    pub git: GitArgs,
}

/// Reading the repo from Git (see `eksync::adapters::repo`).
#[derive(clap::Args, Clone)]
pub struct GitArgs {
    /// Read this revision of the local Git repository (branch, tag, SHA, HEAD~2), not the files
    /// on disk.
    #[arg(long, conflicts_with = "git_ref")]
    pub rev: Option<String>,
    /// The branch, tag or commit of a remote URL to read (default: the remote's HEAD).
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,
    /// Read only this folder of the repo (monorepos).
    #[arg(long)]
    pub path: Option<String>,
    /// Where remotes are cached (default: the user's cache folder, eksync/git).
    #[arg(long, env = "EKSYNC_GIT_CACHE")]
    pub git_cache: Option<PathBuf>,
    /// A file holding the HTTPS token (else the EKSYNC_GIT_TOKEN variable).
    #[arg(long, env = "EKSYNC_GIT_TOKEN_FILE")]
    pub git_token_file: Option<PathBuf>,
    /// The SSH private key for ssh:// and git@host: remotes (else the SSH agent).
    #[arg(long, env = "EKSYNC_GIT_SSH_KEY")]
    pub git_ssh_key: Option<PathBuf>,
    /// The known_hosts file SSH host keys are checked against (default: ~/.ssh/known_hosts).
    #[arg(long, env = "EKSYNC_GIT_KNOWN_HOSTS")]
    pub git_known_hosts: Option<PathBuf>,
    /// Trust an SSH host that is not in known_hosts on first use, and add it (a changed key is
    /// still refused).
    #[arg(long)]
    pub git_insecure_accept_new_host_key: bool,
    /// Fetch only this many commits of a remote's history (a shallow fetch).
    #[arg(long)]
    pub git_depth: Option<u32>,
}

/// Where live state is and how to treat it.
#[derive(clap::Args)]
pub struct LiveArgs {
    /// kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// AWS region (default: the ClusterConfig's region, then the standard chain).
    #[arg(long, env = "AWS_REGION")]
    pub aws_region: Option<String>,
    /// AWS named profile.
    #[arg(long, env = "AWS_PROFILE")]
    pub aws_profile: Option<String>,
    /// Send every AWS call to this endpoint (AWS-compatible endpoints, local tests).
    #[arg(long, env = "EKSYNC_AWS_ENDPOINT_URL")]
    pub aws_endpoint_url: Option<String>,
    /// Where deployed CloudFormation templates are kept between runs (default: the user's cache
    /// folder), so a fresh run reads only templates that changed.
    #[arg(long, env = "EKSYNC_AWS_CACHE_DIR")]
    pub aws_cache_dir: Option<PathBuf>,
    /// Keep no AWS template cache between runs.
    #[arg(long)]
    pub no_aws_cache: bool,
    /// The CloudFormation service role that changes the stacks (each change set's RoleARN):
    /// CloudFormation creates their resources with its rights, and eksync needs only
    /// iam:PassRole for it (see `eksync permissions`).
    #[arg(long, env = "EKSYNC_CFN_ROLE_ARN")]
    pub cfn_role_arn: Option<String>,
    /// Report drift but change nothing that only corrects drift.
    #[arg(long)]
    pub detect_only: bool,
    /// Skip CloudFormation change-set previews.
    #[arg(long)]
    pub no_preview: bool,
    /// Steps in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Attempts per AWS call (1 turns retries off).
    #[arg(long, env = "EKSYNC_AWS_MAX_ATTEMPTS", default_value_t = 5)]
    pub aws_max_attempts: u32,
    /// First delay between polls while waiting for a step, in milliseconds.
    #[arg(long, env = "EKSYNC_POLL_MS", default_value_t = 2000)]
    pub poll_ms: u64,
    /// Wait at most this many seconds for any object to become healthy (default: per kind).
    #[arg(long, env = "EKSYNC_READINESS_TIMEOUT")]
    pub readiness_timeout: Option<u64>,
    /// Do not read or change AWS.
    #[arg(long)]
    pub no_aws: bool,
    /// Do not read or change Kubernetes.
    #[arg(long)]
    pub no_kubernetes: bool,
    /// Delete managed objects that left Git.
    #[arg(long)]
    pub prune: bool,
    /// Largest share of the inventory one run may prune (0 to 1).
    #[arg(long, default_value_t = 0.5)]
    pub prune_max_share: f64,
    /// Allow a prune above --prune-max-share.
    #[arg(long)]
    pub prune_allow_large: bool,
    /// The source name that labels this repo's objects and names its inventory (default:
    /// `spec.source` in eksync.yaml, else derived from the repo folder's name).
    #[arg(long, env = "EKSYNC_SOURCE")]
    pub source: Option<String>,
}

/// The region: the flag, else the repo's one region, else the SDK's chain.
pub fn aws_region(a: &Analysis, live: &LiveArgs) -> Option<String> {
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

/// One cache file per endpoint, region and profile, under the cache folder.
pub fn aws_cache_file(a: &Analysis, live: &LiveArgs) -> Option<PathBuf> {
    if live.no_aws_cache {
        return None;
    }
    let dir = live
        .aws_cache_dir
        .clone()
        .or_else(|| dirs::cache_dir().map(|d| d.join("eksync").join("aws")))?;
    let key = format!(
        "{}-{}-{}",
        aws_region(a, live).unwrap_or_default(),
        live.aws_endpoint_url.as_deref().unwrap_or("aws"),
        live.aws_profile.as_deref().unwrap_or("default")
    );
    Some(dir.join(format!(
        "templates-{}.json",
        source::derive_source_name(&key)
    )))
}

pub async fn connect_aws(a: &Analysis, live: &LiveArgs) -> Result<Option<AwsAdapter>> {
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
        cache_file: aws_cache_file(a, live),
        cfn_role_arn: live.cfn_role_arn.clone(),
        ..AwsSettings::default()
    })
    .await
    .context("connecting to AWS")?;
    Ok(Some(adapter))
}

/// The source name: the flag, else `eksync.yaml`, else derived from the repo folder's name. One
/// rule for the live commands and `render`, so that what is shown is what is sent.
pub fn source_name(a: &Analysis, repo: &RepoArgs, flag: Option<&str>) -> Result<String> {
    if let Some(name) = flag {
        anyhow::ensure!(
            source::valid_source_name(name),
            "--source `{name}` must be lowercase letters, digits and `-`, start and end with a letter or digit, at most {} characters",
            source::MAX_SOURCE_NAME
        );
        return Ok(name.to_string());
    }
    if let Some(name) = &a.model.settings.source {
        return Ok(name.clone());
    }
    Ok(repo_open::default_name(&repo.repo.to_string_lossy()))
}

pub async fn connect_kube(
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
pub async fn connect(
    a: &Analysis,
    repo: &RepoArgs,
    live: &LiveArgs,
    progress: Option<ProgressSink>,
) -> Result<Reconciler> {
    let source = source_name(a, repo, live.source.as_deref())?;
    let aws = connect_aws(a, live).await?;
    let kube = connect_kube(a, live, source).await?;
    Ok(Reconciler::new(aws, kube, exec_options(live, progress)))
}

pub fn exec_options(live: &LiveArgs, progress: Option<ProgressSink>) -> ExecOptions {
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
        progress,
    }
}

/// Writes the AWS template cache for the next run; a failure only costs that run some reads.
pub fn keep_aws_cache(r: &Reconciler) {
    if let Some(Err(e)) = r.aws().map(AwsAdapter::save_cache) {
        eprintln!("eksync: warning: {:#}", anyhow::Error::new(e));
    }
}

/// The one way every command opens its `REPO`: a folder, a local Git repo at `--rev`, or a
/// remote at `--ref`.
pub fn open_repo(repo: &RepoArgs) -> Result<repo_open::Opened> {
    let g = &repo.git;
    let mut remote = crate::adapters::git::RemoteOptions::default();
    if let Some(dir) = &g.git_cache {
        remote.cache_dir = dir.clone();
    }
    remote.auth.token = repo_open::token(g.git_token_file.as_deref())?;
    remote.auth.ssh_key = g.git_ssh_key.clone();
    if let Some(file) = &g.git_known_hosts {
        remote.auth.known_hosts = file.clone();
    }
    remote.auth.accept_new_host_keys = g.git_insecure_accept_new_host_key;
    remote.depth = g.git_depth;
    let options = repo_open::OpenOptions {
        rev: g.rev.clone(),
        reference: g.git_ref.clone(),
        subdir: g.path.clone(),
        rules: FileRules {
            max_file_size: repo.max_file_size,
        },
        remote,
    };
    Ok(repo_open::open(&repo.repo.to_string_lossy(), &options)?)
}
