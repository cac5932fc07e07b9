//! Judging a webhook delivery: who sent it (GitHub, GitLab, or any sender signing with the
//! generic header), whether its signature or token is right (constant-time), whether it is a
//! push to the followed ref, and whether it was delivered before. A webhook never carries
//! desired state: the only thing a good delivery does is make the agent fetch. HTTP and the
//! body-size limit are `http.rs`'s; this module only sees headers and the body's bytes.

use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use serde_json::Value;
use sha2::Sha256;

use crate::core::agent::RecentDeliveries;

type HmacSha256 = Hmac<Sha256>;

/// The generic signature header: `sha256=<hex HMAC-SHA256 of the raw body>`, as GitHub's.
pub const GENERIC_SIGNATURE: &str = "x-eksync-signature";
/// The generic delivery id header (optional; the body's digest stands in without it).
pub const GENERIC_DELIVERY: &str = "x-eksync-delivery";

/// What to do with a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A push to the followed ref: fetch.
    Fetch { sender: Sender, commit: String },
    /// A GitHub `ping`: answered, nothing else.
    Pong,
    /// Signed right, but nothing to do (another ref, another event, a redelivery): said why.
    Ignored(&'static str),
    /// No or a wrong signature or token. The answer says nothing more.
    Unauthorized,
    /// Signed right, but the body is not the event it claims to be.
    BadRequest(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    GitHub,
    GitLab,
    Generic,
}

impl Sender {
    pub fn as_str(self) -> &'static str {
        match self {
            Sender::GitHub => "github",
            Sender::GitLab => "gitlab",
            Sender::Generic => "generic",
        }
    }
}

/// The webhook's settings.
#[derive(Clone)]
pub struct WebhookConfig {
    /// The shared secret (HMAC key for GitHub and the generic header, the token for GitLab).
    pub secret: Vec<u8>,
    /// The followed ref as a push names it (`refs/heads/main`); `None`: any push.
    pub followed_ref: Option<String>,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("WebhookConfig")
            .field("followed_ref", &self.followed_ref)
            .finish_non_exhaustive()
    }
}

/// The ref a push names for what the agent follows: a branch name `main` is
/// `refs/heads/main`; a full ref stays as it is; a tag or a commit follows no push.
pub fn push_ref(followed: &str) -> String {
    if followed.starts_with("refs/") {
        followed.to_string()
    } else {
        format!("refs/heads/{followed}")
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// `sha256=<hex>` checked against the body's HMAC, in constant time.
fn hmac_ok(secret: &[u8], signature: Option<&str>, body: &[u8]) -> bool {
    let Some(hex_sig) = signature.and_then(|s| s.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// A token compared with the secret in constant time (through their HMACs, so that neither
/// length nor content leaks through timing).
fn token_ok(secret: &[u8], token: Option<&str>) -> bool {
    let Some(token) = token else {
        return false;
    };
    let digest = |x: &[u8]| -> Option<Vec<u8>> {
        let mut m = HmacSha256::new_from_slice(b"eksync webhook token").ok()?;
        m.update(x);
        Some(m.finalize().into_bytes().to_vec())
    };
    let (Some(expected), Ok(mut m)) = (
        digest(secret),
        HmacSha256::new_from_slice(b"eksync webhook token"),
    ) else {
        return false;
    };
    m.update(token.as_bytes());
    m.verify_slice(&expected).is_ok()
}

fn digest_hex(body: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(body))
}

/// Judges one delivery. `recent` remembers delivery ids (only of authenticated deliveries).
pub fn judge(
    cfg: &WebhookConfig,
    headers: &HeaderMap,
    body: &[u8],
    recent: &mut RecentDeliveries,
) -> Verdict {
    let (sender, event, delivery) = if let Some(event) = header(headers, "x-github-event") {
        if !hmac_ok(&cfg.secret, header(headers, "x-hub-signature-256"), body) {
            return Verdict::Unauthorized;
        }
        (
            Sender::GitHub,
            event,
            header(headers, "x-github-delivery").map(str::to_string),
        )
    } else if let Some(event) = header(headers, "x-gitlab-event") {
        if !token_ok(&cfg.secret, header(headers, "x-gitlab-token")) {
            return Verdict::Unauthorized;
        }
        let id = header(headers, "x-gitlab-event-uuid")
            .or_else(|| header(headers, "idempotency-key"))
            .map(str::to_string);
        (Sender::GitLab, event, id)
    } else if headers.contains_key(GENERIC_SIGNATURE) {
        if !hmac_ok(&cfg.secret, header(headers, GENERIC_SIGNATURE), body) {
            return Verdict::Unauthorized;
        }
        let id = header(headers, GENERIC_DELIVERY)
            .map(str::to_string)
            .unwrap_or_else(|| digest_hex(body));
        (Sender::Generic, "push", Some(id))
    } else {
        return Verdict::Unauthorized;
    };
    let is_push = match sender {
        Sender::GitHub => {
            if event == "ping" {
                return Verdict::Pong;
            }
            event == "push"
        }
        Sender::GitLab => event == "Push Hook" || event == "Tag Push Hook",
        Sender::Generic => true,
    };
    if !is_push {
        return Verdict::Ignored("not a push event");
    }
    let Ok(payload) = serde_json::from_slice::<Value>(body) else {
        return Verdict::BadRequest("the body is not JSON");
    };
    let Some(pushed_ref) = payload.get("ref").and_then(Value::as_str) else {
        return Verdict::BadRequest("the push names no ref");
    };
    if let Some(followed) = &cfg.followed_ref {
        if pushed_ref != followed {
            return Verdict::Ignored("a push to another ref");
        }
    }
    if let Some(id) = delivery {
        if !recent.first_time(&id) {
            return Verdict::Ignored("a redelivery");
        }
    }
    let commit = payload
        .get("after")
        .or_else(|| payload.get("checkout_sha"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Verdict::Fetch { sender, commit }
}

/// `sha256=<hex>` for a body: what a sender puts in the signature header (tests, tooling).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    match HmacSha256::new_from_slice(secret) {
        Ok(mut m) => {
            m.update(body);
            format!("sha256={}", hex::encode(m.finalize().into_bytes()))
        }
        // HMAC takes keys of any length; this arm is never taken.
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const SECRET: &[u8] = b"s3cret";

    fn cfg() -> WebhookConfig {
        WebhookConfig {
            secret: SECRET.to_vec(),
            followed_ref: Some("refs/heads/main".into()),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn push(r: &str) -> Vec<u8> {
        format!(r#"{{"ref":"{r}","after":"0123456789abcdef0123456789abcdef01234567"}}"#)
            .into_bytes()
    }

    #[test]
    fn github_push_with_a_good_signature_fetches_once() {
        let body = push("refs/heads/main");
        let sig = sign(SECRET, &body);
        let h = headers(&[
            ("x-github-event", "push"),
            ("x-hub-signature-256", &sig),
            ("x-github-delivery", "d-1"),
        ]);
        let mut recent = RecentDeliveries::new(8);
        assert_eq!(
            judge(&cfg(), &h, &body, &mut recent),
            Verdict::Fetch {
                sender: Sender::GitHub,
                commit: "0123456789abcdef0123456789abcdef01234567".into()
            }
        );
        assert_eq!(
            judge(&cfg(), &h, &body, &mut recent),
            Verdict::Ignored("a redelivery")
        );
    }

    #[test]
    fn bad_missing_or_foreign_signatures_are_unauthorized() {
        let body = push("refs/heads/main");
        let mut recent = RecentDeliveries::new(8);
        let cases = [
            headers(&[("x-github-event", "push")]),
            headers(&[
                ("x-github-event", "push"),
                ("x-hub-signature-256", &sign(b"other", &body)),
            ]),
            headers(&[
                ("x-github-event", "push"),
                ("x-hub-signature-256", "sha256=zz"),
            ]),
            headers(&[
                ("x-github-event", "push"),
                ("x-hub-signature-256", &sign(SECRET, b"another body")),
            ]),
            headers(&[("x-gitlab-event", "Push Hook"), ("x-gitlab-token", "wrong")]),
            headers(&[("x-gitlab-event", "Push Hook")]),
            headers(&[(GENERIC_SIGNATURE, "sha256=00")]),
            headers(&[("content-type", "application/json")]),
        ];
        for h in cases {
            assert_eq!(
                judge(&cfg(), &h, &body, &mut recent),
                Verdict::Unauthorized,
                "{h:?}"
            );
        }
    }

    #[test]
    fn gitlab_and_generic_senders() {
        let body = push("refs/heads/main");
        let mut recent = RecentDeliveries::new(8);
        let h = headers(&[
            ("x-gitlab-event", "Push Hook"),
            ("x-gitlab-token", "s3cret"),
            ("x-gitlab-event-uuid", "g-1"),
        ]);
        assert!(matches!(
            judge(&cfg(), &h, &body, &mut recent),
            Verdict::Fetch {
                sender: Sender::GitLab,
                ..
            }
        ));
        let h = headers(&[(GENERIC_SIGNATURE, &sign(SECRET, &body))]);
        assert!(matches!(
            judge(&cfg(), &h, &body, &mut recent),
            Verdict::Fetch {
                sender: Sender::Generic,
                ..
            }
        ));
        // Without a delivery id the body's digest stands in: the same body is a redelivery.
        assert_eq!(
            judge(&cfg(), &h, &body, &mut recent),
            Verdict::Ignored("a redelivery")
        );
    }

    #[test]
    fn pings_other_refs_and_other_events_do_not_fetch() {
        let mut recent = RecentDeliveries::new(8);
        let ping = br#"{"zen":"hi"}"#;
        let h = headers(&[
            ("x-github-event", "ping"),
            ("x-hub-signature-256", &sign(SECRET, ping)),
        ]);
        assert_eq!(judge(&cfg(), &h, ping, &mut recent), Verdict::Pong);
        let body = push("refs/heads/feature");
        let h = headers(&[
            ("x-github-event", "push"),
            ("x-hub-signature-256", &sign(SECRET, &body)),
        ]);
        assert_eq!(
            judge(&cfg(), &h, &body, &mut recent),
            Verdict::Ignored("a push to another ref")
        );
        let h = headers(&[
            ("x-github-event", "issues"),
            ("x-hub-signature-256", &sign(SECRET, &body)),
        ]);
        assert_eq!(
            judge(&cfg(), &h, &body, &mut recent),
            Verdict::Ignored("not a push event")
        );
        let junk = b"not json";
        let h = headers(&[
            ("x-github-event", "push"),
            ("x-hub-signature-256", &sign(SECRET, junk)),
        ]);
        assert_eq!(
            judge(&cfg(), &h, junk, &mut recent),
            Verdict::BadRequest("the body is not JSON")
        );
    }

    #[test]
    fn a_branch_name_follows_its_heads_ref() {
        assert_eq!(push_ref("main"), "refs/heads/main");
        assert_eq!(push_ref("refs/tags/v1"), "refs/tags/v1");
    }
}
