//! Remotes: the cache of one bare repository per remote URL, the advisory lock that lets one run
//! at a time fetch into it, the fetch itself (one connection: the ref advertisement, then a pack
//! only if something is new), credentials (a token for HTTP, a key file or the agent for SSH),
//! strict host-key checking and bounded retries. It never prints a credential: every message
//! goes through the scrubber with the token, the URL's password and the raw URL.

use std::cell::{Cell, RefCell};
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{
    CertificateCheckStatus, Cred, CredentialType, Direction, ErrorClass, ErrorCode, FetchOptions,
    Oid, RemoteCallbacks, Repository,
};

use super::known_hosts::{self, Verdict};
use super::url::{RemoteUrl, Scheme};
use super::{Cause, GitError, GitSource};
use crate::core::source::FileRules;

/// Credentials and trust for remotes.
#[derive(Clone, Default)]
pub struct Auth {
    /// An HTTP(S) token, sent as the password of basic authentication.
    pub token: Option<String>,
    /// The user name sent with the token when the URL names none.
    pub token_user: Option<String>,
    /// An SSH private key file (else the SSH agent, when one runs).
    pub ssh_key: Option<PathBuf>,
    /// The key's passphrase, if it has one.
    pub ssh_passphrase: Option<String>,
    /// The known_hosts file SSH host keys are checked against.
    pub known_hosts: PathBuf,
    /// Add an unknown host's key to `known_hosts` instead of refusing it (never a changed key).
    pub accept_new_host_keys: bool,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("ssh_key", &self.ssh_key)
            .field("known_hosts", &self.known_hosts)
            .field("accept_new_host_keys", &self.accept_new_host_keys)
            .finish()
    }
}

/// How remotes are fetched.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// The folder holding one bare repository per remote.
    pub cache_dir: PathBuf,
    pub auth: Auth,
    /// Fetch only this many commits of history (a shallow fetch).
    pub depth: Option<u32>,
    /// Attempts per fetch on transient network errors.
    pub max_attempts: u32,
    /// The first delay between attempts; it doubles, with jitter.
    pub backoff: Duration,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            cache_dir: default_cache_dir(),
            auth: Auth {
                known_hosts: default_known_hosts(),
                ..Auth::default()
            },
            depth: None,
            max_attempts: 3,
            backoff: Duration::from_millis(250),
        }
    }
}

/// `$XDG_CACHE_HOME/eksync/git` (or the platform's cache folder), else `.eksync-cache/git`.
pub fn default_cache_dir() -> PathBuf {
    dirs::cache_dir()
        .map(|d| d.join("eksync").join("git"))
        .unwrap_or_else(|| PathBuf::from(".eksync-cache").join("git"))
}

/// `~/.ssh/known_hosts`.
pub fn default_known_hosts() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_default()
        .join(".ssh")
        .join("known_hosts")
}

/// The ref a run reads, as the remote advertises it.
struct Wanted {
    /// The remote's full name (`refs/heads/main`), or every head and tag for a commit SHA.
    remote_refs: Vec<(String, Oid)>,
    /// What the local ref is called in the cache.
    local: Option<String>,
}

pub(super) fn read(
    url: &RemoteUrl,
    reference: Option<&str>,
    subdir: &str,
    rules: &FileRules,
    opts: &RemoteOptions,
) -> Result<GitSource, GitError> {
    super::set_user_agent();
    let secrets = secrets(url, &opts.auth);
    let loopback = ["127.0.0.1", "localhost", "[::1]", "::1"].contains(&url.host.as_str());
    if url.scheme == Scheme::Http && opts.auth.token.is_some() && !loopback {
        tracing::warn!(remote = %url.display, "sending the Git token over plain http://; use https://");
    }
    if let Some(key) = &opts.auth.ssh_key {
        // libssh2 reports a missing key as a refused one: say what is wrong before connecting.
        File::open(key).map_err(|source| GitError::SshKey {
            path: key.clone(),
            source,
        })?;
    }
    fs::create_dir_all(&opts.cache_dir).map_err(|source| GitError::Cache {
        path: opts.cache_dir.clone(),
        what: "cannot create the folder".into(),
        source,
    })?;
    let key = url.cache_key();
    let dir = opts.cache_dir.join(format!("{key}.git"));
    let _lock = lock(&opts.cache_dir.join(format!("{key}.lock")), &url.display)?;
    let mut recloned = false;
    loop {
        let repo = open_cache(&dir, recloned)?;
        match fetch_and_read(&repo, url, reference, subdir, rules, opts, &secrets) {
            Err(e) if !recloned && damaged(&e) => {
                tracing::warn!(cache = %dir.display(), error = %e, "the Git cache is damaged; cloning again");
                recloned = true;
            }
            other => return other,
        }
    }
}

/// Pairs of (secret, stand-in) scrubbed from every message.
fn secrets(url: &RemoteUrl, auth: &Auth) -> Vec<(String, String)> {
    let mut s = vec![(url.for_git.clone(), url.display.clone())];
    for secret in url.secrets().into_iter().chain(auth.token.clone()) {
        s.push((secret, "***".into()));
    }
    if let Some(user) = &url.user {
        s.push((format!("{user}@"), String::new()));
    }
    s
}

/// Errors that mean the cache, not the remote, is broken.
fn damaged(e: &GitError) -> bool {
    match e {
        GitError::Read { source, .. } | GitError::Fetch { source, .. } => matches!(
            source.class,
            ErrorClass::Odb
                | ErrorClass::Object
                | ErrorClass::Zlib
                | ErrorClass::Repository
                | ErrorClass::Reference
                | ErrorClass::Index
                | ErrorClass::Tree
                | ErrorClass::Config
                | ErrorClass::Indexer
        ),
        _ => false,
    }
}

/// Holds the cache's lock file locked (an advisory lock the OS drops if the process dies).
fn lock(path: &Path, remote: &str) -> Result<File, GitError> {
    let cache_err = |what: &str, source| GitError::Cache {
        path: path.to_path_buf(),
        what: what.into(),
        source,
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| cache_err("cannot open the lock file", e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            tracing::info!(remote = %remote, "another eksync run is using this Git cache; waiting for it");
            file.lock()
                .map_err(|e| cache_err("cannot lock the lock file", e))?;
        }
        Err(fs::TryLockError::Error(e)) => {
            return Err(cache_err("cannot lock the lock file", e));
        }
    }
    Ok(file)
}

/// Opens the cached bare repository; creates it when missing; starts over when it cannot be
/// opened (or `fresh` asks for it).
fn open_cache(dir: &Path, fresh: bool) -> Result<Repository, GitError> {
    let cache_err = |what: &str, source| GitError::Cache {
        path: dir.to_path_buf(),
        what: what.into(),
        source,
    };
    if !fresh {
        if let Ok(repo) = Repository::open_bare(dir) {
            if repo.odb().is_ok() {
                return Ok(repo);
            }
        }
    }
    if dir.exists() {
        tracing::warn!(cache = %dir.display(), "the Git cache cannot be opened; cloning again");
        fs::remove_dir_all(dir).map_err(|e| cache_err("cannot remove the damaged cache", e))?;
    }
    Repository::init_bare(dir).map_err(|e| {
        cache_err(
            "cannot create the cache repository",
            std::io::Error::other(e.message().to_string()),
        )
    })
}

/// What the callbacks saw, to turn libgit2's error into one that says what happened.
#[derive(Default)]
struct Seen {
    offered: RefCell<Vec<CredentialType>>,
    refused: Cell<bool>,
    missing: RefCell<Option<String>>,
    host_key: RefCell<Option<GitError>>,
}

fn callbacks<'a>(url: &'a RemoteUrl, auth: &'a Auth, seen: &'a Seen) -> RemoteCallbacks<'a> {
    let mut cb = RemoteCallbacks::new();
    cb.credentials(move |_url, user_from_url, allowed| {
        credentials(url, auth, seen, user_from_url, allowed)
    });
    cb.certificate_check(move |cert, host| {
        let Some(hostkey) = cert.as_hostkey() else {
            // TLS: libgit2's own verification against the system's roots.
            return Ok(CertificateCheckStatus::CertificatePassthrough);
        };
        let (Some(key), Some(ktype)) = (hostkey.hostkey(), hostkey.hostkey_type()) else {
            *seen.host_key.borrow_mut() = Some(host_key_err(url, auth, "the server sent no usable host key".into()));
            return Err(git2::Error::from_str("host key not trusted"));
        };
        let port = url.ssh_port();
        let contents = fs::read_to_string(&auth.known_hosts).unwrap_or_default();
        let problem = match known_hosts::check(&contents, host, port, ktype.name(), key) {
            Verdict::Trusted => return Ok(CertificateCheckStatus::CertificateOk),
            Verdict::Unknown if auth.accept_new_host_keys => {
                match append_known_host(&auth.known_hosts, host, port, ktype.name(), key) {
                    Ok(()) => {
                        tracing::warn!(host = %known_hosts::host_name(host, port), file = %auth.known_hosts.display(), "added a new SSH host key (--git-insecure-accept-new-host-key)");
                        return Ok(CertificateCheckStatus::CertificateOk);
                    }
                    Err(e) => format!("the new host key could not be added: {e}"),
                }
            }
            Verdict::Unknown => format!(
                "{} is not in the known hosts file; add its {} key (ssh-keyscan, checked out of band) or pass --git-insecure-accept-new-host-key",
                known_hosts::host_name(host, port),
                ktype.name()
            ),
            Verdict::Changed { listed } => format!(
                "the server's {} key does not match the known hosts file, which lists {} for {}: HOST KEY MISMATCH (the key changed, or someone is in the middle)",
                ktype.name(),
                listed.join(", "),
                known_hosts::host_name(host, port)
            ),
            Verdict::Revoked => "the server's key is marked @revoked".to_string(),
        };
        *seen.host_key.borrow_mut() = Some(host_key_err(url, auth, problem));
        Err(git2::Error::from_str("host key not trusted"))
    });
    cb
}

fn host_key_err(url: &RemoteUrl, auth: &Auth, detail: String) -> GitError {
    GitError::HostKey {
        host: known_hosts::host_name(&url.host, url.ssh_port()),
        file: auth.known_hosts.clone(),
        detail,
    }
}

fn append_known_host(
    file: &Path,
    host: &str,
    port: u16,
    ktype: &str,
    key: &[u8],
) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut f = OpenOptions::new().create(true).append(true).open(file)?;
    f.write_all(known_hosts::entry(host, port, ktype, key).as_bytes())
}

fn credentials(
    url: &RemoteUrl,
    auth: &Auth,
    seen: &Seen,
    user_from_url: Option<&str>,
    allowed: CredentialType,
) -> Result<Cred, git2::Error> {
    let refuse = |why: &str| Err(git2::Error::from_str(why));
    // libgit2 asks again after a refusal: the second request for the same kind is the refusal.
    let kind = [
        CredentialType::USER_PASS_PLAINTEXT,
        CredentialType::SSH_KEY,
        CredentialType::USERNAME,
    ]
    .into_iter()
    .find(|k| allowed.contains(*k));
    let Some(kind) = kind else {
        *seen.missing.borrow_mut() =
            Some("the server asks for a kind of credential eksync does not send".into());
        return refuse("unsupported credential type");
    };
    if seen.offered.borrow().contains(&kind) && kind != CredentialType::USERNAME {
        seen.refused.set(true);
        return refuse("credentials refused");
    }
    seen.offered.borrow_mut().push(kind);
    let user = user_from_url
        .map(str::to_string)
        .or_else(|| url.user.clone());
    if kind == CredentialType::USER_PASS_PLAINTEXT {
        let token = auth.token.clone().or_else(|| url.password.clone());
        let Some(token) = token else {
            *seen.missing.borrow_mut() =
                Some("give a token in a file (--git-token-file) or in EKSYNC_GIT_TOKEN".into());
            return refuse("no token");
        };
        let user = user
            .or_else(|| auth.token_user.clone())
            .unwrap_or_else(|| "x-access-token".into());
        return Cred::userpass_plaintext(&user, &token);
    }
    let user = user.unwrap_or_else(local_user);
    if kind == CredentialType::USERNAME {
        return Cred::username(&user);
    }
    match &auth.ssh_key {
        Some(key) => Cred::ssh_key(&user, None, key, auth.ssh_passphrase.as_deref()),
        None if std::env::var_os("SSH_AUTH_SOCK").is_some() => Cred::ssh_key_from_agent(&user),
        None => {
            *seen.missing.borrow_mut() = Some(
                "give an SSH private key file with --git-ssh-key (or run an SSH agent)".into(),
            );
            refuse("no SSH key")
        }
    }
}

/// The local user name, as OpenSSH uses it when the URL names none.
fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "git".into())
}

fn fetch_and_read(
    repo: &Repository,
    url: &RemoteUrl,
    reference: Option<&str>,
    subdir: &str,
    rules: &FileRules,
    opts: &RemoteOptions,
    secrets: &[(String, String)],
) -> Result<GitSource, GitError> {
    let origin = url.display.clone();
    // `main~2`, `v1^`: the ref is fetched, the ancestor found in the cache.
    let (base, suffix) = match reference {
        Some(r) => r.split_at(r.find(['~', '^']).unwrap_or(r.len())),
        None => ("HEAD", ""),
    };
    let base = Some(base).filter(|_| reference.is_some());
    let wanted = fetch_with_retries(repo, url, base, opts, secrets)?;
    let shown = reference.unwrap_or("HEAD");
    let spec = match &wanted.local {
        Some(local) => format!("{local}{suffix}"),
        None => shown.to_string(),
    };
    let object = repo.revparse_single(&spec).map_err(|e| {
        if wanted.local.is_none() {
            GitError::UnknownCommit {
                rev: shown.to_string(),
                origin: origin.clone(),
            }
        } else if !suffix.is_empty() && e.code() == git2::ErrorCode::NotFound {
            GitError::UnknownRevision {
                rev: shown.to_string(),
                origin: origin.clone(),
                source: Cause::scrub(&e, secrets),
            }
        } else {
            GitError::Read {
                what: format!("`{shown}`"),
                origin: origin.clone(),
                source: Cause::scrub(&e, secrets),
            }
        }
    })?;
    super::read_commit(repo, object, shown, subdir, rules, &origin, secrets)
}

fn fetch_with_retries(
    repo: &Repository,
    url: &RemoteUrl,
    reference: Option<&str>,
    opts: &RemoteOptions,
    secrets: &[(String, String)],
) -> Result<Wanted, GitError> {
    let attempts = opts.max_attempts.max(1);
    let mut delay = opts.backoff;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let seen = Seen::default();
        match fetch_once(repo, url, reference, opts, &seen) {
            Ok(Ok(w)) => return Ok(w),
            Ok(Err(e)) => return Err(e),
            Err(e) => {
                if let Some(err) = seen.host_key.borrow_mut().take() {
                    return Err(err);
                }
                let origin = url.display.clone();
                let what = match (
                    url.scheme,
                    opts.auth.token.is_some() || url.password.is_some(),
                ) {
                    (Scheme::Https | Scheme::Http, true) => "a token",
                    (Scheme::Https | Scheme::Http, false) => "no token",
                    _ => "an SSH key",
                };
                if seen.refused.get() || is_http_status(&e, &["401", "403"]) {
                    return Err(GitError::AuthRefused {
                        origin,
                        what: what.into(),
                    });
                }
                if let Some(hint) = seen.missing.borrow_mut().take() {
                    return Err(GitError::AuthRequired { origin, hint });
                }
                let cause = Cause::scrub(&e, secrets);
                if !transient(&e) {
                    return Err(GitError::Fetch {
                        origin,
                        source: cause,
                    });
                }
                if attempt >= attempts {
                    return Err(GitError::Unreachable {
                        origin,
                        attempts,
                        source: cause,
                    });
                }
                tracing::warn!(remote = %url.display, attempt, error = %cause, "transient Git error; retrying");
                let jitter = rand::random_range(0..=delay.as_millis() as u64 / 2);
                std::thread::sleep(delay + Duration::from_millis(jitter));
                delay = delay.saturating_mul(2);
            }
        }
    }
}

fn is_http_status(e: &git2::Error, codes: &[&str]) -> bool {
    e.class() == ErrorClass::Http && codes.iter().any(|c| e.message().contains(c))
}

/// Network trouble worth another try: connection refused or reset, timeouts, 5xx.
fn transient(e: &git2::Error) -> bool {
    match e.class() {
        ErrorClass::Net | ErrorClass::Os => true,
        ErrorClass::Http => is_http_status(e, &["500", "502", "503", "504"]),
        ErrorClass::Ssh => {
            let m = e.message().to_ascii_lowercase();
            [
                "connect",
                "timed out",
                "timeout",
                "reset",
                "unable to exchange",
            ]
            .iter()
            .any(|w| m.contains(w))
        }
        _ => e.code() == ErrorCode::Timeout,
    }
}

/// One connection: list the remote's refs, decide what is wanted, download only what is new,
/// point the cache's refs at it. `Ok(Err(_))` is an answer (an unknown or deleted ref) that no
/// retry changes; `Err(_)` is libgit2's failure.
fn fetch_once(
    repo: &Repository,
    url: &RemoteUrl,
    reference: Option<&str>,
    opts: &RemoteOptions,
    seen: &Seen,
) -> Result<Result<Wanted, GitError>, git2::Error> {
    let mut remote = repo.remote_anonymous(&url.for_git)?;
    let mut conn = remote.connect_auth(
        Direction::Fetch,
        Some(callbacks(url, &opts.auth, seen)),
        None,
    )?;
    let advertised: Vec<(String, Oid)> = conn
        .list()?
        .iter()
        .map(|h| (h.name().to_string(), h.oid()))
        .filter(|(n, _)| !n.ends_with("^{}"))
        .collect();
    let wanted = match choose(repo, url, reference, &advertised) {
        Ok(w) => w,
        Err(e) => return Ok(Err(e)),
    };
    let refspecs: Vec<String> = wanted
        .remote_refs
        .iter()
        .map(|(name, _)| format!("+{name}:{}", local_name(name)))
        .collect();
    let missing = wanted
        .remote_refs
        .iter()
        .any(|(_, oid)| repo.find_object(*oid, None).is_err());
    if missing {
        let mut fo = FetchOptions::new();
        fo.remote_callbacks(callbacks(url, &opts.auth, seen));
        if let Some(depth) = opts.depth {
            fo.depth(i32::try_from(depth).unwrap_or(i32::MAX));
        }
        conn.remote().download(&refspecs, Some(&mut fo))?;
    }
    drop(conn);
    for (name, oid) in &wanted.remote_refs {
        repo.reference(&local_name(name), *oid, true, "eksync: fetch")?;
    }
    Ok(Ok(wanted))
}

/// Where the cache keeps a remote ref: under its own name (the cache is a mirror); the remote's
/// `HEAD` as `refs/eksync/HEAD`.
fn local_name(remote: &str) -> String {
    if remote == "HEAD" {
        "refs/eksync/HEAD".into()
    } else {
        remote.to_string()
    }
}

fn is_sha(s: &str) -> bool {
    (4..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn choose(
    repo: &Repository,
    url: &RemoteUrl,
    reference: Option<&str>,
    advertised: &[(String, Oid)],
) -> Result<Wanted, GitError> {
    let find = |name: &str| advertised.iter().find(|(n, _)| n == name).cloned();
    let Some(reference) = reference else {
        let head = find("HEAD").ok_or_else(|| GitError::UnknownRef {
            reference: "HEAD".into(),
            origin: url.display.clone(),
            available: Vec::new(),
        })?;
        return Ok(Wanted {
            local: Some(local_name(&head.0)),
            remote_refs: vec![head],
        });
    };
    let candidates = if reference.starts_with("refs/") {
        vec![reference.to_string()]
    } else {
        vec![
            format!("refs/heads/{reference}"),
            format!("refs/tags/{reference}"),
        ]
    };
    if let Some(hit) = candidates.iter().find_map(|c| find(c)) {
        return Ok(Wanted {
            local: Some(local_name(&hit.0)),
            remote_refs: vec![hit],
        });
    }
    if is_sha(reference) {
        // A commit: fetch every branch and tag, then look it up among them.
        let all: Vec<(String, Oid)> = advertised
            .iter()
            .filter(|(n, _)| n.starts_with("refs/heads/") || n.starts_with("refs/tags/"))
            .cloned()
            .collect();
        return Ok(Wanted {
            remote_refs: all,
            local: None,
        });
    }
    // Gone from the remote but still in the cache: it was deleted. Drop it so it is never read.
    let branch = format!("refs/heads/{reference}");
    if let Ok(mut stale) = repo.find_reference(&branch) {
        let last_seen = stale
            .target()
            .map(|o| o.to_string().chars().take(12).collect())
            .unwrap_or_default();
        let _ = stale.delete();
        return Err(GitError::DeletedBranch {
            reference: reference.to_string(),
            origin: url.display.clone(),
            last_seen,
        });
    }
    Err(GitError::UnknownRef {
        reference: reference.to_string(),
        origin: url.display.clone(),
        available: advertised
            .iter()
            .filter_map(|(n, _)| {
                n.strip_prefix("refs/heads/")
                    .or_else(|| n.strip_prefix("refs/tags/"))
                    .map(str::to_string)
            })
            .collect(),
    })
}
