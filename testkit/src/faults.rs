//! Fault injection for reliability tests: rules matched by verb and/or path substring that
//! answer 429 with `Retry-After`, 500, 409, hang for a while before answering normally, or drop
//! the connection, either for the next N matching requests or with a probability.
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
    /// Wait, then answer normally.
    Hang(Duration),
    /// Close the connection without an answer.
    Drop,
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
