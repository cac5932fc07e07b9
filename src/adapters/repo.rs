//! Opens the `REPO` argument every command takes, one way for all of them: a folder (its files as
//! they are, uncommitted edits included), a local Git repository at a revision (`--rev`), or a
//! remote URL at a ref (`--ref`), each optionally narrowed to a folder (`--path`). It picks the
//! reader; reading is the `fs` and `git` adapters' job, and nothing here parses content.

use std::path::{Path, PathBuf};

use super::fs::{self as repo_fs, FsError};
use super::git::{self, GitError, RemoteOptions, RemoteUrl};
use crate::core::source::{self, FileRules, Revision, Source};

/// How to open a repo.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// A revision of a local repository (also accepted for a remote, as its ref).
    pub rev: Option<String>,
    /// A ref of a remote (also accepted for a local repository, as its revision).
    pub reference: Option<String>,
    /// A folder inside the repo (monorepos).
    pub subdir: Option<String>,
    pub rules: FileRules,
    pub remote: RemoteOptions,
}

/// A repo's files, and the commit they came from when they came from Git.
#[derive(Debug, Clone)]
pub struct Opened {
    pub source: Source,
    pub revision: Option<Revision>,
    /// The source name eksync derives when neither `--source` nor `eksync.yaml` names one: the
    /// folder's name, or the remote repository's.
    pub default_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("reading repo {path}")]
    Dir {
        path: PathBuf,
        #[source]
        source: FsError,
    },
    #[error(transparent)]
    Git(#[from] GitError),
}

/// Opens `repo` (a folder or a remote URL).
pub fn open(repo: &str, o: &OpenOptions) -> Result<Opened, RepoError> {
    let rev = o.rev.as_deref().or(o.reference.as_deref());
    let subdir = o.subdir.as_deref().unwrap_or("");
    // A folder that exists is a folder, whatever its name looks like.
    let remote = if Path::new(repo).exists() {
        None
    } else {
        RemoteUrl::parse(repo)
    };
    if let Some(url) = remote {
        let url = url.map_err(|why| GitError::BadUrl {
            display: redact_plainly(repo),
            why,
        })?;
        let g = git::read_remote(&url, rev, subdir, &o.rules, &o.remote)?;
        return Ok(Opened {
            source: g.source,
            revision: Some(g.revision),
            default_name: source::derive_source_name(url.repo_name()),
        });
    }
    let path = Path::new(repo);
    let default_name = folder_name(path);
    if let Some(rev) = rev {
        let g = git::read_local(path, rev, subdir, &o.rules)?;
        return Ok(Opened {
            source: g.source,
            revision: Some(g.revision),
            default_name,
        });
    }
    let dir = if subdir.is_empty() {
        path.to_path_buf()
    } else {
        path.join(git::normalize_subdir(subdir)?)
    };
    let source = repo_fs::read_dir(&dir, &o.rules).map_err(|source| RepoError::Dir {
        path: dir.clone(),
        source,
    })?;
    Ok(Opened {
        source,
        revision: None,
        default_name,
    })
}

/// The source name a folder gives: its own name once `.` and links are resolved.
fn folder_name(path: &Path) -> String {
    let base = std::fs::canonicalize(path)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    source::derive_source_name(&base)
}

/// A URL that did not parse, without anything between `://` and `@`.
fn redact_plainly(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(i), Some(j)) if j > i => format!("{}{}", &s[..i + 3], &s[j + 1..]),
        _ => s.to_string(),
    }
}

/// The source name `repo` gives when nothing else names one (see [`Opened::default_name`]),
/// without reading it.
pub fn default_name(repo: &str) -> String {
    match RemoteUrl::parse(repo).filter(|_| !Path::new(repo).exists()) {
        Some(Ok(url)) => source::derive_source_name(url.repo_name()),
        _ => folder_name(Path::new(repo)),
    }
}

/// The HTTP token: the first line of `file` when given, else `EKSYNC_GIT_TOKEN` (never a
/// command-line value, which other users of the machine could read).
pub fn token(file: Option<&Path>) -> Result<Option<String>, GitError> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| GitError::TokenFile {
            path: path.to_path_buf(),
            source,
        })?;
        return Ok(
            Some(text.lines().next().unwrap_or("").trim().to_string()).filter(|t| !t.is_empty())
        );
    }
    Ok(std::env::var("EKSYNC_GIT_TOKEN")
        .ok()
        .filter(|t| !t.is_empty()))
}
