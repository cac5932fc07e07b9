//! Values that flow: the `{{aws:...}}` reference syntax, how it is found inside strings, and how a
//! string renders when some references are not known yet ("known after apply").
//!
//! Syntax (inside any string of a manifest or eksync kind):
//!
//! | reference | value |
//! |---|---|
//! | `{{aws:nodegroup/<ng>/resource/<LogicalId>}}` | physical id of a resource in the node group's stack (the ASG name for `NodeGroup`, the role name for `NodeInstanceRole`) |
//! | `{{aws:nodegroup/<ng>/output/<Key>}}` | an output of the node group's stack (`InstanceRoleARN`, ...) |
//! | `{{aws:cluster/resource/<LogicalId>}}`, `{{aws:cluster/output/<Key>}}` | the same for the cluster stack |
//! | `{{aws:iamserviceaccount/<namespace>/<name>/output/Role1}}` (or `.../resource/<LogicalId>`) | the same for the stack of an IRSA service account (`iam.serviceAccounts`): `Role1` is its role's ARN |
//! | `{{aws:nodegroup/<ng>/min-size}}`, `.../max-size` | the node group's bounds from the ClusterConfig (known offline) |
//! | `{{aws:region}}`, `{{aws:cluster-name}}` | from the ClusterConfig (known offline) |
//!
//! `{{aws:...}}` cannot be valid Go-template, Helm or Jinja syntax, and never touches Kubernetes'
//! `$(VAR)` or a shell's `${VAR}`. To write the characters literally, escape with `{{!aws:` — it
//! renders as `{{aws:`. Spaces inside the braces are allowed. This module does not look anything
//! up: resolving values is the executor's job, validating targets the loader's.

use std::fmt;

/// The stack a reference points into.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StackRef {
    Cluster,
    NodeGroup(String),
    /// The stack of the IRSA service account `namespace/name` (`iam.serviceAccounts`).
    ServiceAccount {
        namespace: String,
        name: String,
    },
}

impl StackRef {
    /// The CloudFormation stack this points into, for cluster `cluster`.
    pub fn stack_name(&self, cluster: &str) -> String {
        match self {
            StackRef::Cluster => crate::eksctl::cluster_stack_name(cluster),
            StackRef::NodeGroup(ng) => crate::eksctl::nodegroup_stack_name(cluster, ng),
            StackRef::ServiceAccount { namespace, name } => {
                crate::eksctl::iamserviceaccount_stack_name(cluster, namespace, name)
            }
        }
    }
}

/// What a reference asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueRef {
    /// Physical id of a stack resource.
    Resource {
        stack: StackRef,
        logical_id: String,
    },
    /// A stack output.
    Output {
        stack: StackRef,
        key: String,
    },
    /// A node group's bound from the config.
    MinSize(String),
    MaxSize(String),
    Region,
    ClusterName,
}

impl ValueRef {
    /// The stack whose deployment produces the value; `None` for values known offline.
    pub fn producer(&self) -> Option<&StackRef> {
        match self {
            ValueRef::Resource { stack, .. } | ValueRef::Output { stack, .. } => Some(stack),
            _ => None,
        }
    }
}

impl fmt::Display for StackRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StackRef::Cluster => f.write_str("cluster"),
            StackRef::NodeGroup(ng) => write!(f, "nodegroup/{ng}"),
            StackRef::ServiceAccount { namespace, name } => {
                write!(f, "iamserviceaccount/{namespace}/{name}")
            }
        }
    }
}

impl fmt::Display for ValueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Resource { stack, logical_id } => {
                write!(f, "{{{{aws:{stack}/resource/{logical_id}}}}}")
            }
            ValueRef::Output { stack, key } => write!(f, "{{{{aws:{stack}/output/{key}}}}}"),
            ValueRef::MinSize(ng) => write!(f, "{{{{aws:nodegroup/{ng}/min-size}}}}"),
            ValueRef::MaxSize(ng) => write!(f, "{{{{aws:nodegroup/{ng}/max-size}}}}"),
            ValueRef::Region => f.write_str("{{aws:region}}"),
            ValueRef::ClusterName => f.write_str("{{aws:cluster-name}}"),
        }
    }
}

/// A syntax problem in a reference, with the byte offset in the string where it starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RefError {
    pub offset: usize,
    pub message: String,
}

/// One piece of a string: literal text or a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Ref(ValueRef),
}

const OPEN: &str = "{{";

/// Splits a string into literal text and references. Escapes (`{{!aws:`) become literal `{{aws:`.
/// Any `{{` not followed by `aws:` or `!aws:` (after optional spaces) is ordinary text.
pub fn parse(s: &str) -> Result<Vec<Piece>, RefError> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(OPEN) {
        // Byte offset of this `{{` in the whole string.
        let at = s.len() - rest.len() + i;
        let after = &rest[i + OPEN.len()..];
        let trimmed = after.trim_start_matches(' ');
        if let Some(esc) = trimmed.strip_prefix("!aws:") {
            text.push_str(&rest[..i]);
            text.push_str("{{aws:");
            rest = esc;
            continue;
        }
        let Some(body_start) = trimmed.strip_prefix("aws:") else {
            text.push_str(&rest[..i + OPEN.len()]);
            rest = after;
            continue;
        };
        let Some(end) = body_start.find("}}") else {
            return Err(RefError {
                offset: at,
                message: "unterminated reference: `{{aws:` without `}}`".to_string(),
            });
        };
        let body = body_start[..end].trim_end_matches(' ');
        let value = parse_body(body).map_err(|message| RefError {
            offset: at,
            message,
        })?;
        text.push_str(&rest[..i]);
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        pieces.push(Piece::Ref(value));
        rest = &body_start[end + 2..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

fn parse_body(body: &str) -> Result<ValueRef, String> {
    let parts: Vec<&str> = body.split('/').collect();
    let bad = || {
        format!(
            "unknown reference `{{{{aws:{body}}}}}`; expected nodegroup/<name>/resource/<LogicalId>, \
             nodegroup/<name>/output/<Key>, nodegroup/<name>/min-size|max-size, \
             cluster/resource/<LogicalId>, cluster/output/<Key>, \
             iamserviceaccount/<namespace>/<name>/output/<Key>, region or cluster-name"
        )
    };
    let leaf = |stack: StackRef, kind: &str, name: &str| -> Result<ValueRef, String> {
        if name.is_empty() {
            return Err(bad());
        }
        match kind {
            "resource" => Ok(ValueRef::Resource {
                stack,
                logical_id: name.to_string(),
            }),
            "output" => Ok(ValueRef::Output {
                stack,
                key: name.to_string(),
            }),
            _ => Err(bad()),
        }
    };
    match parts.as_slice() {
        ["region"] => Ok(ValueRef::Region),
        ["cluster-name"] => Ok(ValueRef::ClusterName),
        ["cluster", kind, name] => leaf(StackRef::Cluster, kind, name),
        ["nodegroup", ng, "min-size"] if !ng.is_empty() => Ok(ValueRef::MinSize(ng.to_string())),
        ["nodegroup", ng, "max-size"] if !ng.is_empty() => Ok(ValueRef::MaxSize(ng.to_string())),
        ["nodegroup", ng, kind, name] if !ng.is_empty() => {
            leaf(StackRef::NodeGroup(ng.to_string()), kind, name)
        }
        ["iamserviceaccount", ns, sa, kind, name] if !ns.is_empty() && !sa.is_empty() => leaf(
            StackRef::ServiceAccount {
                namespace: ns.to_string(),
                name: sa.to_string(),
            },
            kind,
            name,
        ),
        _ => Err(bad()),
    }
}

/// True when the string may hold a reference or an escape (a cheap pre-check for the hot path).
pub fn may_contain(s: &str) -> bool {
    s.contains(OPEN)
}

/// Renders pieces, asking `lookup` for each reference; an unknown value shows as
/// `(known after apply: {{aws:...}})`. Returns the string and whether every value was known.
pub fn render(pieces: &[Piece], lookup: &dyn Fn(&ValueRef) -> Option<String>) -> (String, bool) {
    let mut out = String::new();
    let mut complete = true;
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Ref(r) => match lookup(r) {
                Some(v) => out.push_str(&v),
                None => {
                    complete = false;
                    out.push_str(&format!("(known after apply: {r})"));
                }
            },
        }
    }
    (out, complete)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ng_res(ng: &str, id: &str) -> ValueRef {
        ValueRef::Resource {
            stack: StackRef::NodeGroup(ng.into()),
            logical_id: id.into(),
        }
    }

    #[test]
    fn parses_references_and_text() {
        let p = parse("--nodes={{aws:nodegroup/spot/min-size}}:{{ aws:nodegroup/spot/max-size }}:{{aws:nodegroup/spot/resource/NodeGroup}}").unwrap();
        assert_eq!(
            p,
            vec![
                Piece::Text("--nodes=".into()),
                Piece::Ref(ValueRef::MinSize("spot".into())),
                Piece::Text(":".into()),
                Piece::Ref(ValueRef::MaxSize("spot".into())),
                Piece::Text(":".into()),
                Piece::Ref(ng_res("spot", "NodeGroup")),
            ]
        );
        assert_eq!(
            parse("{{aws:cluster/output/ARN}}").unwrap(),
            vec![Piece::Ref(ValueRef::Output {
                stack: StackRef::Cluster,
                key: "ARN".into()
            })]
        );
        assert_eq!(
            parse("{{aws:region}}").unwrap(),
            vec![Piece::Ref(ValueRef::Region)]
        );
    }

    #[test]
    fn parses_service_account_stack_references_both_ways() {
        let r = ValueRef::Output {
            stack: StackRef::ServiceAccount {
                namespace: "kube-system".into(),
                name: "cluster-autoscaler".into(),
            },
            key: "Role1".into(),
        };
        let text = r.to_string();
        assert_eq!(
            text,
            "{{aws:iamserviceaccount/kube-system/cluster-autoscaler/output/Role1}}"
        );
        assert_eq!(parse(&text).unwrap(), vec![Piece::Ref(r.clone())]);
        assert_eq!(
            r.producer().unwrap().stack_name("c"),
            "eksctl-c-addon-iamserviceaccount-kube-system-cluster-autoscaler"
        );
        assert!(parse("{{aws:iamserviceaccount//x/output/Role1}}").is_err());
    }

    #[test]
    fn leaves_other_template_and_shell_syntax_alone() {
        for s in [
            "echo ${HOME} $(POD_NAME) $((1+2))",
            "{{ $labels.instance }} is down",
            "{{- if .Values.x }}",
            "a {{ b",
            "",
        ] {
            let pieces = parse(s).unwrap();
            let (out, complete) = render(&pieces, &|_| None);
            assert_eq!(out, s);
            assert!(complete);
        }
    }

    #[test]
    fn escapes_render_literally() {
        let pieces = parse("use {{!aws:region}} to get the region").unwrap();
        assert_eq!(
            pieces,
            vec![Piece::Text("use {{aws:region}} to get the region".into())]
        );
    }

    #[test]
    fn rejects_malformed_references() {
        let cases = [
            ("x {{aws:region", "unterminated"),
            (
                "{{aws:nodegroup/spot/resourc/NodeGroup}}",
                "unknown reference",
            ),
            ("{{aws:nodegroup//resource/X}}", "unknown reference"),
            ("{{aws:cluster/output/}}", "unknown reference"),
            ("{{aws:}}", "unknown reference"),
        ];
        for (s, want) in cases {
            let err = parse(s).unwrap_err();
            assert!(err.message.contains(want), "{s}: {}", err.message);
        }
        assert_eq!(parse("ab{{aws:nope}}").unwrap_err().offset, 2);
        assert_eq!(
            parse("{{x}} {{!aws:y}} {{aws:nope}}").unwrap_err().offset,
            17
        );
    }

    #[test]
    fn renders_unknown_values_as_known_after_apply() {
        let pieces = parse("--nodes=0:5:{{aws:nodegroup/spot/resource/NodeGroup}}").unwrap();
        let (out, complete) = render(&pieces, &|_| None);
        assert_eq!(
            out,
            "--nodes=0:5:(known after apply: {{aws:nodegroup/spot/resource/NodeGroup}})"
        );
        assert!(!complete);
        let (out, complete) = render(&pieces, &|_| Some("asg-123".into()));
        assert_eq!(out, "--nodes=0:5:asg-123");
        assert!(complete);
    }
}
