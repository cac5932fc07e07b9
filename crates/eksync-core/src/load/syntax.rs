//! Syntax rules Kubernetes and eksctl apply to names, labels and taints, as pure predicates that
//! return a reason when a value is invalid. The wording follows the API server's messages.

/// RFC 1123 DNS label: lowercase alphanumerics and '-', starting and ending alphanumeric, <= 63.
pub fn dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err(format!("`{s}` must be 1 to 63 characters"));
    }
    let ok = s
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
        ))
    }
}

/// RFC 1123 DNS subdomain: dot-separated DNS labels, <= 253 characters.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err(format!("`{s}` must be 1 to 253 characters"));
    }
    let ok = s.split('.').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && part.as_bytes()[0].is_ascii_alphanumeric()
            && part.as_bytes()[part.len() - 1].is_ascii_alphanumeric()
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{s}` must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

fn qualified_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

/// A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// characters of alphanumerics, '-', '_' and '.', starting and ending alphanumeric.
pub fn qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if dns_subdomain(p).is_err() {
            return Err(format!(
                "key `{s}`: the prefix `{p}` must be a DNS subdomain (lowercase, '-', '.')"
            ));
        }
    }
    if !qualified_name_part(name) {
        return Err(format!(
            "key `{s}`: the name part must be 1 to 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
        ));
    }
    Ok(())
}

/// A label value: empty, or at most 63 characters of alphanumerics, '-', '_' and '.', starting and
/// ending alphanumeric.
pub fn label_value(s: &str) -> Result<(), String> {
    if s.is_empty() || qualified_name_part(s) {
        Ok(())
    } else {
        Err(format!(
            "value `{s}` must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"
        ))
    }
}

pub const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// eksctl's cluster and node group names: `[a-zA-Z][-a-zA-Z0-9]*`.
pub fn eksctl_name(s: &str) -> Result<(), String> {
    let ok = s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
    if ok && s.len() <= 100 {
        Ok(())
    } else {
        Err(format!(
            "`{s}` must start with a letter and contain only letters, digits and '-' (at most 100 characters)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert!(dns_label("jenkins").is_ok());
        assert!(dns_label("Jenkins").is_err());
        assert!(dns_label("-a").is_err());
        assert!(dns_subdomain("cluster-autoscaler.kube-system").is_ok());
        assert!(dns_subdomain("a..b").is_err());
        assert!(qualified_name("app.kubernetes.io/name").is_ok());
        assert!(qualified_name("lifecycle").is_ok());
        assert!(qualified_name("Bad Key").is_err());
        assert!(qualified_name("UPPER.example/x").is_err());
        assert!(label_value("Ec2Spot").is_ok());
        assert!(label_value("").is_ok());
        assert!(label_value("not ok").is_err());
        assert!(label_value(&"x".repeat(64)).is_err());
        assert!(eksctl_name("ng-test-jenkins").is_ok());
        assert!(eksctl_name("1ng").is_err());
        assert!(eksctl_name("ng_x").is_err());
    }
}
