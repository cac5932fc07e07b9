//! OpenSSH `known_hosts` matching for SSH remotes: plain and hashed (`|1|salt|hash`) host
//! patterns, `[host]:port` for ports other than 22, `*`/`?` wildcards, `!` negation and
//! `@revoked` lines. It decides whether a server's key is trusted; it never trusts a key on
//! first use by itself (the caller decides whether an unknown host may be added) and ignores
//! `@cert-authority` lines (host certificates are not supported: such a host is unknown).

use base64::Engine as _;
use hmac::{KeyInit, Mac};

/// What the file says about a server's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The key is listed for the host.
    Trusted,
    /// The host is listed with other keys: the key changed (or someone is in the middle).
    Changed { listed: Vec<String> },
    /// The key is listed as revoked.
    Revoked,
    /// The host is not listed.
    Unknown,
}

/// The name a host is listed under: `host`, or `[host]:port` off port 22.
pub fn host_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The line to add for a host (plain, as `ssh -o StrictHostKeyChecking=accept-new` writes it
/// without hashing).
pub fn entry(host: &str, port: u16, key_type: &str, key: &[u8]) -> String {
    format!(
        "{} {key_type} {}\n",
        host_name(host, port),
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// Checks a server's key (`key_type` as in the file, `key` the raw public key blob).
pub fn check(contents: &str, host: &str, port: u16, key_type: &str, key: &[u8]) -> Verdict {
    let name = host_name(host, port);
    let mut listed = Vec::new();
    let mut trusted = false;
    for line in contents.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut hosts = fields.next().unwrap_or("");
        let marker = hosts.strip_prefix('@').map(str::to_string);
        if marker.is_some() {
            hosts = fields.next().unwrap_or("");
        }
        let (Some(ktype), Some(kb64)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !hosts_match(hosts, &name) {
            continue;
        }
        let same = ktype == key_type
            && base64::engine::general_purpose::STANDARD
                .decode(kb64)
                .is_ok_and(|k| k == key);
        match marker.as_deref() {
            Some("revoked") if same => return Verdict::Revoked,
            Some(_) => continue,
            None if same => trusted = true,
            None => listed.push(ktype.to_string()),
        }
    }
    if trusted {
        Verdict::Trusted
    } else if listed.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Changed { listed }
    }
}

fn hosts_match(field: &str, name: &str) -> bool {
    if let Some(hashed) = field.strip_prefix("|1|") {
        return hashed_match(hashed, name);
    }
    let mut matched = false;
    for pattern in field.split(',') {
        if let Some(neg) = pattern.strip_prefix('!') {
            if wildcard(neg, name) {
                return false;
            }
        } else if wildcard(pattern, name) {
            matched = true;
        }
    }
    matched
}

fn hashed_match(hashed: &str, name: &str) -> bool {
    let b64 = &base64::engine::general_purpose::STANDARD;
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (b64.decode(salt), b64.decode(hash)) else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// OpenSSH's pattern match: `*` any run, `?` one character; host names compare ignoring case.
fn wildcard(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let n: Vec<char> = name.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(k: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(k)
    }

    fn hashed(name: &str, salt: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(salt).unwrap();
        mac.update(name.as_bytes());
        format!("|1|{}|{}", b64(salt), b64(&mac.finalize().into_bytes()))
    }

    #[test]
    fn verdicts() {
        let key = b"key-one";
        let other = b"key-two";
        let t = "ssh-ed25519";
        let file = format!(
            "# comment\n\
             [127.0.0.1]:2222 {t} {k}\n\
             git.example,10.0.0.1 {t} {k}\n\
             {h} {t} {k}\n\
             *.corp.example,!evil.corp.example {t} {k}\n\
             @revoked bad.example {t} {k}\n\
             @cert-authority *.ca.example {t} {k}\n\
             changed.example ecdsa-sha2-nistp256 {o}\n",
            k = b64(key),
            o = b64(other),
            h = hashed("hashed.example", b"salt-salt-salt-salt!"),
        );
        for (host, port, k, want) in [
            ("127.0.0.1", 2222, &key[..], Verdict::Trusted),
            (
                "127.0.0.1",
                2222,
                &other[..],
                Verdict::Changed {
                    listed: vec![t.into()],
                },
            ),
            ("127.0.0.1", 22, &key[..], Verdict::Unknown),
            ("GIT.example", 22, &key[..], Verdict::Trusted),
            ("10.0.0.1", 22, &key[..], Verdict::Trusted),
            ("hashed.example", 22, &key[..], Verdict::Trusted),
            (
                "hashed.example",
                22,
                &other[..],
                Verdict::Changed {
                    listed: vec![t.into()],
                },
            ),
            ("a.corp.example", 22, &key[..], Verdict::Trusted),
            ("evil.corp.example", 22, &key[..], Verdict::Unknown),
            ("bad.example", 22, &key[..], Verdict::Revoked),
            ("x.ca.example", 22, &key[..], Verdict::Unknown),
            (
                "changed.example",
                22,
                &key[..],
                Verdict::Changed {
                    listed: vec!["ecdsa-sha2-nistp256".into()],
                },
            ),
        ] {
            assert_eq!(check(&file, host, port, t, k), want, "{host}:{port}");
        }
        let line = entry("127.0.0.1", 2200, t, key);
        assert_eq!(check(&line, "127.0.0.1", 2200, t, key), Verdict::Trusted);
        assert!(wildcard("g?t.*", "git.example"));
        assert!(!wildcard("git", "git.example"));
    }
}
