//! One line for an error and its causes, as every report, log line and exit message prints it:
//! each cause once, even where a library repeats its source in its own message (kube-rs does for
//! I/O errors). It decides nothing about what an error means.

/// `error: cause: cause`, skipping a cause whose text the line already holds.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let next = c.to_string();
        if !s.contains(&next) {
            s.push_str(": ");
            s.push_str(&next);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading repo /x")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("kubeconfig: No such file (os error 2)")]
    struct Inner(#[source] std::io::Error);

    #[test]
    fn each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file (os error 2)");
        let e = Outer(Inner(io));
        assert_eq!(
            error_chain(&e),
            "reading repo /x: kubeconfig: No such file (os error 2)"
        );
    }
}
