//! Remote URLs as people write them (`https://`, `http://`, `ssh://`, `git://`, `file://` and
//! scp-like `user@host:org/repo.git`): parsed once, with the user information (a user name, a
//! password or token) kept apart so that every message can print the URL without it. It does not
//! connect anywhere.

use sha2::{Digest, Sha256};

/// The transport a remote URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Https,
    Http,
    Ssh,
    Git,
    File,
}

/// A remote repository's URL.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// What libgit2 is given: the URL without a password.
    pub(crate) for_git: String,
    /// What people see: the URL without any user information.
    pub display: String,
    pub scheme: Scheme,
    /// The user name in the URL (`git` in `git@host:org/repo.git`), never printed.
    pub(crate) user: Option<String>,
    /// A password or token written into the URL, never printed.
    pub(crate) password: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// The repository's path on the host.
    pub path: String,
}

impl std::fmt::Debug for RemoteUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The user information never reaches a log line, not even a debug one.
        f.debug_struct("RemoteUrl")
            .field("url", &self.display)
            .finish()
    }
}

impl RemoteUrl {
    /// Parses `s` if it is a remote URL, `None` if it is not one (a local path).
    pub fn parse(s: &str) -> Option<Result<RemoteUrl, String>> {
        if let Some((scheme, _)) = s.split_once("://") {
            let scheme = match scheme.to_ascii_lowercase().as_str() {
                "https" => Scheme::Https,
                "http" => Scheme::Http,
                "ssh" | "git+ssh" | "ssh+git" => Scheme::Ssh,
                "git" => Scheme::Git,
                "file" => Scheme::File,
                other => return Some(Err(format!("unsupported URL scheme `{other}://`"))),
            };
            return Some(parse_url(s, scheme));
        }
        scp_like(s).map(Ok)
    }

    /// A short, file-name-safe key that names this remote's cache: the repository's name and a
    /// hash of the URL without user information (one cache per remote, whoever logs in).
    pub fn cache_key(&self) -> String {
        let digest = Sha256::digest(self.display.as_bytes());
        format!(
            "{}-{}",
            eksync_core::source::derive_source_name(self.repo_name()),
            &hex::encode(digest)[..16]
        )
    }

    /// The last path segment without `.git`: what a source is named after by default.
    pub fn repo_name(&self) -> &str {
        let last = self
            .path
            .trim_end_matches('/')
            .rsplit(['/', ':'])
            .next()
            .unwrap_or("");
        last.strip_suffix(".git").unwrap_or(last)
    }

    /// The port SSH connects to.
    pub fn ssh_port(&self) -> u16 {
        self.port.unwrap_or(22)
    }

    /// Every secret the URL carries, to be scrubbed from messages.
    pub(crate) fn secrets(&self) -> Vec<String> {
        self.password.iter().cloned().collect()
    }
}

fn parse_url(s: &str, scheme: Scheme) -> Result<RemoteUrl, String> {
    let mut url = url::Url::parse(s).map_err(|e| format!("not a valid URL: {e}"))?;
    let user = Some(url.username().to_string()).filter(|u| !u.is_empty());
    let password = url.password().map(str::to_string);
    let host = url.host_str().unwrap_or("").to_string();
    if host.is_empty() && scheme != Scheme::File {
        return Err("the URL names no host".into());
    }
    let port = url.port();
    let path = url.path().to_string();
    // The error-free results are ignored on purpose: clearing is refused only for URLs that
    // cannot carry user information (`file:`), which then have none to clear.
    let _ = url.set_password(None);
    let for_git = url.to_string();
    let _ = url.set_username("");
    Ok(RemoteUrl {
        for_git,
        display: url.to_string(),
        scheme,
        user,
        password,
        host,
        port,
        path,
    })
}

/// `[user@]host:path` as git reads it: a colon before any slash, and not a drive-like or
/// relative path.
fn scp_like(s: &str) -> Option<RemoteUrl> {
    let colon = s.find(':')?;
    if s[..colon].contains('/') || colon == 0 || colon + 1 >= s.len() {
        return None;
    }
    let (user_host, path) = (&s[..colon], &s[colon + 1..]);
    let (user, host) = match user_host.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h.to_string()),
        None => (None, user_host.to_string()),
    };
    if host.is_empty() || host.contains(char::is_whitespace) || path.starts_with("//") {
        return None;
    }
    Some(RemoteUrl {
        for_git: s.to_string(),
        display: format!("{host}:{path}"),
        scheme: Scheme::Ssh,
        user,
        password: None,
        host,
        port: None,
        path: path.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_and_hides_user_information() {
        for (input, scheme, display, host, port, name) in [
            (
                "https://x-access-token:s3cr3t@git.example/org/repo.git",
                Scheme::Https,
                "https://git.example/org/repo.git",
                "git.example",
                None,
                "repo",
            ),
            (
                "http://127.0.0.1:8080/repo.git",
                Scheme::Http,
                "http://127.0.0.1:8080/repo.git",
                "127.0.0.1",
                Some(8080),
                "repo",
            ),
            (
                "ssh://alice@127.0.0.1:2222/srv/git/platform.git",
                Scheme::Ssh,
                "ssh://127.0.0.1:2222/srv/git/platform.git",
                "127.0.0.1",
                Some(2222),
                "platform",
            ),
            (
                "git@github.com:org/apps.git",
                Scheme::Ssh,
                "github.com:org/apps.git",
                "github.com",
                None,
                "apps",
            ),
            (
                "git://127.0.0.1:9418/repo",
                Scheme::Git,
                "git://127.0.0.1:9418/repo",
                "127.0.0.1",
                Some(9418),
                "repo",
            ),
            (
                "file:///srv/git/infra.git",
                Scheme::File,
                "file:///srv/git/infra.git",
                "",
                None,
                "infra",
            ),
        ] {
            let u = RemoteUrl::parse(input).expect("remote").expect("valid");
            assert_eq!(u.scheme, scheme, "{input}");
            assert_eq!(u.display, display, "{input}");
            assert_eq!(u.host, host, "{input}");
            assert_eq!(u.port, port, "{input}");
            assert_eq!(u.repo_name(), name, "{input}");
            assert!(!format!("{u:?}").contains("s3cr3t"));
            assert!(!u.for_git.contains("s3cr3t"));
        }
        let u = RemoteUrl::parse("https://tok@git.example/r.git")
            .unwrap()
            .unwrap();
        assert_eq!(u.user.as_deref(), Some("tok"));
        assert_eq!(
            u.cache_key(),
            RemoteUrl::parse("https://git.example/r.git")
                .unwrap()
                .unwrap()
                .cache_key(),
            "one cache per remote, whoever logs in"
        );
        for local in ["examples-repo", "./a:b", "/srv/repo", "C", "repo/"] {
            assert!(RemoteUrl::parse(local).is_none(), "{local}");
        }
        assert!(RemoteUrl::parse("ftp://host/repo").unwrap().is_err());
    }
}
