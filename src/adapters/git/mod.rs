//! The Git source: reads a commit's tree into the core's in-memory `Source`, from a local
//! repository at a revision (`--rev`: branch, tag, annotated tag, short or full SHA, `HEAD~2`) or
//! from a remote (`https://`, `ssh://`, `git@host:org/repo.git`, `git://`, `file://`) at a ref,
//! fetched into a cache of one bare repository per remote that later runs reuse. The only module
//! with `git2` types.
//!
//! What it guarantees: no checkout (objects are read from the object database), the same file
//! rules as the directory reader, one fetch at a time per cached remote (an advisory lock, so
//! concurrent runs wait instead of corrupting it), a force-pushed branch followed, a deleted
//! branch and an unknown ref reported as such, a damaged cache cloned again, bounded retries with
//! backoff on transient network errors, strict SSH host-key checking against a `known_hosts` file
//! (trust on first use only when asked), and no credential or URL user information in any
//! message. What it does not do: push, check out, fetch Git LFS objects or follow submodules
//! (both are reported where manifests would be), or verify commit signatures.

mod fetch;
pub mod known_hosts;
mod tree;
pub mod url;

use std::path::{Path, PathBuf};

use crate::core::source::{FileRules, Revision, Source};

pub use fetch::{Auth, RemoteOptions};
pub use url::RemoteUrl;

/// A source read from Git, and the commit it came from.
#[derive(Debug, Clone)]
pub struct GitSource {
    pub source: Source,
    pub revision: Revision,
}

/// What went wrong underneath, with credentials and URL user information already removed.
#[derive(Debug)]
pub struct Cause {
    message: String,
    pub(crate) class: git2::ErrorClass,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Cause {}

impl Cause {
    /// `e`'s message with every one of `secrets` (tokens, passwords, raw URLs with user
    /// information) replaced.
    pub(crate) fn scrub(e: &git2::Error, secrets: &[(String, String)]) -> Cause {
        Cause {
            message: scrub(e.message(), secrets),
            class: e.class(),
        }
    }
}

/// Replaces each secret by its stand-in; the longest first, so a URL goes before its parts.
pub(crate) fn scrub(text: &str, secrets: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = secrets.iter().filter(|(s, _)| !s.is_empty()).collect();
    pairs.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for (secret, stand_in) in pairs {
        out = out.replace(secret.as_str(), stand_in);
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path} is not a Git repository (give a directory without --rev, or a repository)")]
    Open {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    #[error("unknown revision `{rev}` in {origin}")]
    UnknownRevision {
        rev: String,
        origin: String,
        #[source]
        source: Cause,
    },
    #[error("{origin} has no branch or tag `{reference}`{}", hint(.available))]
    UnknownRef {
        reference: String,
        origin: String,
        available: Vec<String>,
    },
    #[error("branch `{reference}` no longer exists on {origin} (it was deleted; eksync last read it at {last_seen})")]
    DeletedBranch {
        reference: String,
        origin: String,
        last_seen: String,
    },
    #[error("commit `{rev}` is not reachable from any branch or tag of {origin}")]
    UnknownCommit { rev: String, origin: String },
    #[error("--path `{path}` is not a folder in {rev}")]
    PathNotFound { path: String, rev: String },
    #[error("--path `{path}` must be a relative path inside the repository")]
    BadPath { path: String },
    #[error("cannot reach {origin} (gave up after {attempts} attempt(s))")]
    Unreachable {
        origin: String,
        attempts: u32,
        #[source]
        source: Cause,
    },
    #[error("{origin} refused the credentials eksync sent ({what}); check the token or key")]
    AuthRefused { origin: String, what: String },
    #[error("{origin} asks for credentials: {hint}")]
    AuthRequired { origin: String, hint: String },
    #[error("SSH host key of {host} is not trusted: {detail} (known hosts: {file})")]
    HostKey {
        host: String,
        file: PathBuf,
        detail: String,
    },
    #[error("fetching from {origin} failed")]
    Fetch {
        origin: String,
        #[source]
        source: Cause,
    },
    #[error("reading {what} from {origin} failed")]
    Read {
        what: String,
        origin: String,
        #[source]
        source: Cause,
    },
    #[error("Git cache {path}: {what}")]
    Cache {
        path: PathBuf,
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the Git token from {path}")]
    TokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the SSH key {path}")]
    SshKey {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bad remote URL ({display}): {why}")]
    BadUrl { display: String, why: String },
}

fn hint(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        let shown: Vec<&str> = available.iter().take(10).map(String::as_str).collect();
        format!(
            " (it has: {}{})",
            shown.join(", "),
            if available.len() > 10 { ", ..." } else { "" }
        )
    }
}

/// Normalizes `--path`: repo-relative, `/`-separated, no `..`; empty for the whole tree.
pub fn normalize_subdir(path: &str) -> Result<String, GitError> {
    let bad = || GitError::BadPath {
        path: path.to_string(),
    };
    if path.starts_with('/') {
        return Err(bad());
    }
    let mut parts = Vec::new();
    for p in path.split(['/', '\\']) {
        match p {
            "" | "." => {}
            ".." => return Err(bad()),
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// Reads `rev` of the local repository at (or above) `path`. When `path` is a folder inside the
/// repository's working tree, the source is that folder (then `subdir` inside it).
pub fn read_local(
    path: &Path,
    rev: &str,
    subdir: &str,
    rules: &FileRules,
) -> Result<GitSource, GitError> {
    let open_err = |e: &git2::Error| GitError::Open {
        path: path.to_path_buf(),
        source: Cause::scrub(e, &[]),
    };
    let repo = git2::Repository::discover(path).map_err(|e| open_err(&e))?;
    // A folder inside the working tree reads that folder of the commit.
    let mut prefix = String::new();
    if let (Some(workdir), Ok(here)) = (repo.workdir(), std::fs::canonicalize(path)) {
        if let Ok(workdir) = std::fs::canonicalize(workdir) {
            if let Ok(rel) = here.strip_prefix(&workdir) {
                prefix = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
            }
        }
    }
    let subdir = normalize_subdir(&tree_join(&prefix, subdir))?;
    let origin = path.display().to_string();
    let object = repo
        .revparse_single(rev)
        .map_err(|e| GitError::UnknownRevision {
            rev: rev.to_string(),
            origin: origin.clone(),
            source: Cause::scrub(&e, &[]),
        })?;
    read_commit(&repo, object, rev, &subdir, rules, &origin, &[])
}

fn tree_join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}/{b}"),
    }
}

/// Reads a remote at `reference` (a branch, a tag, a commit SHA; the remote's default branch
/// when `None`), fetching into the cache first.
pub fn read_remote(
    url: &RemoteUrl,
    reference: Option<&str>,
    subdir: &str,
    rules: &FileRules,
    opts: &RemoteOptions,
) -> Result<GitSource, GitError> {
    let subdir = normalize_subdir(subdir)?;
    fetch::read(url, reference, &subdir, rules, opts)
}

fn read_commit(
    repo: &git2::Repository,
    object: git2::Object<'_>,
    rev: &str,
    subdir: &str,
    rules: &FileRules,
    origin: &str,
    secrets: &[(String, String)],
) -> Result<GitSource, GitError> {
    let read_err = |what: &str, e: &git2::Error| GitError::Read {
        what: what.to_string(),
        origin: origin.to_string(),
        source: Cause::scrub(e, secrets),
    };
    let commit = object
        .peel_to_commit()
        .map_err(|e| read_err(&format!("commit `{rev}`"), &e))?;
    let root = commit
        .tree()
        .map_err(|e| read_err(&format!("the tree of `{rev}`"), &e))?;
    let source = tree::read(repo, &root, subdir, rules, rev)?;
    let subject = String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned();
    Ok(GitSource {
        source,
        revision: Revision {
            commit: commit.id().to_string(),
            reference: rev.to_string(),
            subject,
            origin: origin.to_string(),
        },
    })
}

/// Connecting to a remote gives up after this long.
const CONNECT_TIMEOUT_MS: std::ffi::c_int = 15_000;
/// A remote silent for this long (no byte read or written) fails the fetch.
const IO_TIMEOUT_MS: std::ffi::c_int = 120_000;

/// Sets libgit2's HTTP User-Agent to `git/2.0 (eksync/<version>)` and its network timeouts once
/// per process: git2 has no
/// wrapper for it, and servers expect the `git/` product (libgit2 forbids a custom
/// `User-Agent` header).
fn set_user_agent() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        libgit2_sys::init();
        let agent = concat!("eksync/", env!("CARGO_PKG_VERSION"), "\0");
        // SAFETY: libgit2 is initialised above; GIT_OPT_SET_USER_AGENT takes one NUL-terminated
        // string, which it copies; `agent` is a static, NUL-terminated literal.
        let rc = unsafe {
            libgit2_sys::git_libgit2_opts(
                libgit2_sys::GIT_OPT_SET_USER_AGENT as std::ffi::c_int,
                agent.as_ptr() as *const std::ffi::c_char,
            )
        };
        if rc != 0 {
            tracing::warn!("could not set the Git User-Agent");
        }
        // SAFETY: plain integer settings of the initialised library, set before any transfer.
        // A remote that accepts the connection and then says nothing fails instead of hanging.
        let timeouts = unsafe {
            git2::opts::set_server_connect_timeout_in_milliseconds(CONNECT_TIMEOUT_MS)
                .and_then(|()| git2::opts::set_server_timeout_in_milliseconds(IO_TIMEOUT_MS))
        };
        if let Err(e) = timeouts {
            tracing::warn!(error = %e.message(), "could not set the Git network timeouts");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdirs_and_scrubbing() {
        assert_eq!(normalize_subdir("./apps//web/").unwrap(), "apps/web");
        assert_eq!(normalize_subdir("").unwrap(), "");
        assert!(normalize_subdir("../x").is_err());
        assert!(normalize_subdir("/etc").is_err());
        let secrets = vec![
            ("https://u:tok@h/r".to_string(), "https://h/r".to_string()),
            ("tok".to_string(), "***".to_string()),
        ];
        assert_eq!(
            scrub("failed on https://u:tok@h/r with tok", &secrets),
            "failed on https://h/r with ***"
        );
    }
}
