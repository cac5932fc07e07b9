//! Fault injection for reliability tests: rules matched by verb and/or path substring that
//! answer 429 with `Retry-After`, 500, 409, an admission webhook's denial, hang for a while before
//! answering normally, or drop the connection, either for the next N matching requests or with a
//! probability.
//!
//! Rules are checked in insertion order before the request reaches the API; the first rule that
//! fires wins. Nothing here knows about Kubernetes semantics beyond the verb name.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng as _;

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultAction {
    /// 429 TooManyRequests with `Retry-After: secs`.
    TooManyRequests {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// 500 InternalError.
    InternalError,
    /// 409 Conflict.
    Conflict,
    /// A validating admission webhook denies the request, answered as kube-apiserver does
    /// (`admission/plugin/webhook/errors.ToStatusErr`): a `Status` with the webhook's code (raised
    /// to 400 when it gave less), its reason (left out when empty), no details, and the message
    /// `admission webhook "<webhook>" denied the request: <message>` (`... without explanation`
    /// when the webhook gave neither message nor reason). Webhooks with `sideEffects: None` are
    /// called for dry runs too, so a rule matching a path denies dry runs as well.
    AdmissionDenied {
        /// The webhook's name (`webhooks[].name`).
        webhook: String,
        /// The HTTP code the webhook put in its `status.code` (0: none).
        code: u16,
        /// The webhook's `status.reason` (may be empty).
        reason: String,
        /// The webhook's `status.message` (may be empty).
        message: String,
    },
    /// Wait, then answer normally.
    Hang(Duration),
    /// Close the connection without an answer.
    Drop,
    /// Carry the request out, then close the connection without an answer: the server changed
    /// state but the client never hears so (a connection lost on the way back).
    DropAnswer,
}

/// How often a rule fires.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultTimes {
    /// The next N matching requests.
    Times(u32),
    /// Each matching request with this probability (0.0 - 1.0).
    Probability(f64),
    /// Every matching request.
    Always,
}

/// One rule.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Verb to match (`get`, `list`, `watch`, `create`, `update`, `patch`, `apply`, `delete`), or
    /// `None` for any.
    pub verb: Option<String>,
    /// Substring of the path to match, or `None` for any.
    pub path_contains: Option<String>,
    /// What to do.
    pub action: FaultAction,
    /// How often.
    pub times: FaultTimes,
}

impl FaultRule {
    /// A rule for a verb and path substring (either may be empty for "any").
    pub fn new(verb: &str, path_contains: &str, action: FaultAction, times: FaultTimes) -> Self {
        FaultRule {
            verb: (!verb.is_empty()).then(|| verb.to_string()),
            path_contains: (!path_contains.is_empty()).then(|| path_contains.to_string()),
            action,
            times,
        }
    }
}

/// The rule set of a server.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<FaultRule>>>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        // A poisoned lock only means a panic elsewhere; the rules are still valid.
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a rule.
    pub fn add(&self, rule: FaultRule) {
        self.lock().push(rule);
    }

    /// Removes all rules.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The action for a request, if a rule fires (counting it down).
    pub fn check(&self, verb: &str, path: &str) -> Option<FaultAction> {
        let mut rules = self.lock();
        let mut fired = None;
        for r in rules.iter_mut() {
            if r.verb.as_deref().is_some_and(|v| v != verb) {
                continue;
            }
            if r.path_contains
                .as_deref()
                .is_some_and(|p| !path.contains(p))
            {
                continue;
            }
            let fire = match &mut r.times {
                FaultTimes::Times(0) => false,
                FaultTimes::Times(n) => {
                    *n -= 1;
                    true
                }
                FaultTimes::Probability(p) => rand::rng().random_bool(p.clamp(0.0, 1.0)),
                FaultTimes::Always => true,
            };
            if fire {
                fired = Some(r.action.clone());
                break;
            }
        }
        rules.retain(|r| r.times != FaultTimes::Times(0));
        fired
    }
}

/// The HTTP code and `Status` body kube-apiserver answers for [`FaultAction::AdmissionDenied`]
/// (`None` for other actions), as `webhookerrors.ToStatusErr` builds them from the webhook's
/// `AdmissionResponse.status`.
pub fn admission_denial(action: &FaultAction) -> (u16, serde_json::Value) {
    let FaultAction::AdmissionDenied {
        webhook,
        code,
        reason,
        message,
    } = action
    else {
        return (0, serde_json::Value::Null);
    };
    let code = (*code).max(400);
    let denied = format!("admission webhook {webhook:?} denied the request");
    let message = if !message.is_empty() {
        format!("{denied}: {message}")
    } else if !reason.is_empty() {
        format!("{denied}: {reason}")
    } else {
        format!("{denied} without explanation")
    };
    let mut status = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message,
    });
    if !reason.is_empty() {
        status["reason"] = serde_json::json!(reason);
    }
    status["code"] = serde_json::json!(code);
    (code, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_count_down_and_match_verb() {
        let f = Faults::default();
        f.add(FaultRule::new(
            "patch",
            "/deployments/",
            FaultAction::InternalError,
            FaultTimes::Times(2),
        ));
        assert_eq!(
            f.check("get", "/apis/apps/v1/namespaces/a/deployments/x"),
            None
        );
        assert_eq!(
            f.check("patch", "/apis/apps/v1/namespaces/a/deployments/x"),
            Some(FaultAction::InternalError)
        );
        assert_eq!(
            f.check("patch", "/apis/apps/v1/namespaces/a/deployments/x"),
            Some(FaultAction::InternalError)
        );
        assert_eq!(
            f.check("patch", "/apis/apps/v1/namespaces/a/deployments/x"),
            None
        );
    }

    #[test]
    fn admission_denial_is_the_apiservers_status() {
        let deny = |code: u16, reason: &str, message: &str| FaultAction::AdmissionDenied {
            webhook: "policy.example.com".into(),
            code,
            reason: reason.into(),
            message: message.into(),
        };
        let (code, status) = admission_denial(&deny(403, "Forbidden", "no latest tags"));
        assert_eq!(code, 403);
        assert_eq!(
            status,
            serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "admission webhook \"policy.example.com\" denied the request: no latest tags",
                "reason": "Forbidden", "code": 403})
        );
        // A code below 400 is raised to 400; no message falls back to the reason, then to
        // "without explanation".
        let (code, status) = admission_denial(&deny(0, "", ""));
        assert_eq!(code, 400);
        assert_eq!(
            status["message"],
            "admission webhook \"policy.example.com\" denied the request without explanation"
        );
        assert!(status.get("reason").is_none());
        let (_, status) = admission_denial(&deny(0, "NotAllowed", ""));
        assert_eq!(
            status["message"],
            "admission webhook \"policy.example.com\" denied the request: NotAllowed"
        );
    }

    #[test]
    fn probability_zero_never_fires() {
        let f = Faults::default();
        f.add(FaultRule::new(
            "",
            "",
            FaultAction::Conflict,
            FaultTimes::Probability(0.0),
        ));
        assert!((0..50).all(|_| f.check("get", "/x").is_none()));
    }
}
