//! Retry policy and delays: which answers are retried (429, 5xx, timeouts and connection
//! errors), and how long to wait (exponential backoff with jitter, or the server's `Retry-After` /
//! `retryAfterSeconds` when it says so, within a cap).
//!
//! It does not sleep or send anything; `client` does.

use std::time::Duration;

use serde_json::Value;

/// Retry policy for every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// Attempts per request, including the first; 1 turns retries off.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest wait eksync accepts from a server's `Retry-After`.
    pub max_retry_after: Duration,
    /// Time allowed for one attempt (request and response body).
    pub request_timeout: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// True for HTTP statuses worth another attempt.
pub(crate) fn retryable_status(code: u16) -> bool {
    code == 429 || (500..600).contains(&code) && code != 501
}

/// The server's requested wait: the `Retry-After` header (seconds) or the Status body's
/// `details.retryAfterSeconds`.
pub(crate) fn server_retry_after(header: Option<&str>, body: &Value) -> Option<Duration> {
    header
        .and_then(|h| h.trim().parse::<u64>().ok())
        .or_else(|| {
            body.pointer("/details/retryAfterSeconds")
                .and_then(Value::as_u64)
        })
        .map(Duration::from_secs)
}

/// The wait before retry number `retry` (0 for the first retry). `unit` is a random number in
/// `[0, 1)`: the backoff is drawn from the upper half of the exponential step ("equal jitter"),
/// and a server-requested wait is honoured (capped at `max_retry_after`) when it is longer.
pub(crate) fn delay(
    s: &RetrySettings,
    retry: u32,
    server: Option<Duration>,
    unit: f64,
) -> Duration {
    let step = s
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(retry.min(16)))
        .min(s.max_backoff);
    let unit = unit.clamp(0.0, 1.0);
    let backoff = step / 2 + step.mul_f64(unit / 2.0);
    match server {
        Some(wait) => wait.min(s.max_retry_after).max(backoff),
        None => backoff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let s = RetrySettings {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(800),
            ..RetrySettings::default()
        };
        assert_eq!(delay(&s, 0, None, 0.0), Duration::from_millis(50));
        assert_eq!(delay(&s, 0, None, 1.0), Duration::from_millis(100));
        assert_eq!(delay(&s, 2, None, 1.0), Duration::from_millis(400));
        assert_eq!(delay(&s, 10, None, 1.0), Duration::from_millis(800));
        assert_eq!(delay(&s, 10, None, 0.0), Duration::from_millis(400));
    }

    #[test]
    fn retry_after_is_honoured_within_the_cap() {
        let s = RetrySettings {
            max_retry_after: Duration::from_secs(5),
            ..RetrySettings::default()
        };
        assert_eq!(
            delay(&s, 0, Some(Duration::from_secs(2)), 0.5),
            Duration::from_secs(2)
        );
        assert_eq!(
            delay(&s, 0, Some(Duration::from_secs(600)), 0.5),
            Duration::from_secs(5)
        );
        assert_eq!(
            server_retry_after(Some("3"), &json!({})),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            server_retry_after(None, &json!({"details": {"retryAfterSeconds": 4}})),
            Some(Duration::from_secs(4))
        );
        assert_eq!(server_retry_after(Some("soon"), &json!({})), None);
    }

    #[test]
    fn which_statuses_are_retried() {
        for (code, retry) in [
            (429, true),
            (500, true),
            (503, true),
            (504, true),
            (501, false),
            (409, false),
            (422, false),
            (404, false),
        ] {
            assert_eq!(retryable_status(code), retry, "{code}");
        }
    }
}
