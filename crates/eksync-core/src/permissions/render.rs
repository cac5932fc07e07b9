//! `eksync permissions` output: the Kubernetes objects (Namespaces a Role needs, ClusterRole,
//! Roles and their bindings) and the IAM policy document, as commented YAML or as JSON that
//! `kubectl apply -f -` and `aws iam put-role-policy` take as they are. Formatting only: which
//! rules exist is decided in the parent module.

use serde_json::{json, Value};

use super::{Permissions, RoleSet, Rule, Statement, Subject};

/// Which part to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    All,
    Kubernetes,
    Aws,
}

const RBAC: &str = "rbac.authorization.k8s.io/v1";
const LABELS: &str = "app.kubernetes.io/part-of";

/// How many objects a comment names before it says "and N more".
const NAMED: usize = 6;

fn rule_json(r: &Rule) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("apiGroups".into(), json!([r.api_group]));
    m.insert("resources".into(), json!([r.resource]));
    if !r.resource_names.is_empty() {
        m.insert("resourceNames".into(), json!(r.resource_names));
    }
    let verbs: Vec<&str> = r.verbs.iter().map(|v| v.as_str()).collect();
    m.insert("verbs".into(), json!(verbs));
    Value::Object(m)
}

fn subject_json(s: &Subject) -> Value {
    match s {
        Subject::ServiceAccount { namespace, name } => {
            json!({"kind": "ServiceAccount", "name": name, "namespace": namespace})
        }
        Subject::User { name } => {
            json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": name})
        }
    }
}

fn metadata(name: &str, namespace: Option<&str>, source: &str) -> Value {
    let mut m =
        json!({"name": name, "labels": {LABELS: "eksync", "eksync.io/permissions-for": source}});
    if let Some(ns) = namespace {
        m["namespace"] = json!(ns);
    }
    m
}

/// The role and its binding, as objects.
fn role_objects(p: &Permissions, r: &RoleSet) -> (Value, Value) {
    let ns = r.namespace.as_deref();
    let (kind, binding) = match ns {
        None => ("ClusterRole", "ClusterRoleBinding"),
        Some(_) => ("Role", "RoleBinding"),
    };
    let role = json!({
        "apiVersion": RBAC,
        "kind": kind,
        "metadata": metadata(&r.name, ns, &p.source),
        "rules": r.rules.iter().map(rule_json).collect::<Vec<_>>(),
    });
    let bind = json!({
        "apiVersion": RBAC,
        "kind": binding,
        "metadata": metadata(&r.name, ns, &p.source),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": r.name},
        "subjects": [subject_json(&p.subject)],
    });
    (role, bind)
}

fn namespace_object(p: &Permissions, ns: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(ns, None, &p.source)})
}

/// Every Kubernetes object, in the order they can be created.
pub fn kube_objects(p: &Permissions) -> Vec<Value> {
    let mut out: Vec<Value> = p
        .namespaces
        .iter()
        .map(|n| namespace_object(p, n))
        .collect();
    for r in &p.roles {
        let (role, bind) = role_objects(p, r);
        out.push(role);
        out.push(bind);
    }
    out
}

fn statement_json(s: &Statement) -> Value {
    let one_or_many = |set: &std::collections::BTreeSet<String>| -> Value {
        if set.len() == 1 {
            json!(set.iter().next())
        } else {
            json!(set)
        }
    };
    let mut m = serde_json::Map::new();
    m.insert("Sid".into(), json!(s.sid));
    m.insert("Effect".into(), json!("Allow"));
    m.insert("Action".into(), one_or_many(&s.actions));
    m.insert("Resource".into(), one_or_many(&s.resources));
    if let Some(c) = &s.condition {
        m.insert("Condition".into(), c.clone());
    }
    Value::Object(m)
}

/// The IAM policy document, or `None` when the repo needs nothing on AWS.
pub fn iam_policy(p: &Permissions) -> Option<Value> {
    (!p.iam.is_empty()).then(|| {
        json!({
            "Version": "2012-10-17",
            "Statement": p.iam.iter().map(statement_json).collect::<Vec<_>>(),
        })
    })
}

/// `-o json`: for one part, exactly what its tool takes (a `kind: List`, a policy document);
/// for both, an object holding the two and the reasons.
pub fn to_json(p: &Permissions, part: Part) -> Value {
    let list = json!({"apiVersion": "v1", "kind": "List", "items": kube_objects(p)});
    match part {
        Part::Kubernetes => list,
        Part::Aws => iam_policy(p).unwrap_or(Value::Null),
        Part::All => {
            let reasons: Vec<Value> = p
                .roles
                .iter()
                .flat_map(|r| {
                    r.rules.iter().enumerate().map(move |(i, rule)| {
                        json!({
                            "role": role_label(r),
                            "rule": i,
                            "purpose": rule.purpose,
                            "neededBy": rule.needed_by,
                        })
                    })
                })
                .chain(
                    p.iam
                        .iter()
                        .map(|s| json!({"sid": s.sid, "neededBy": s.needed_by})),
                )
                .collect();
            json!({
                "source": p.source,
                "kubernetes": list,
                "aws": iam_policy(p),
                "reasons": reasons,
                "notes": p.notes,
            })
        }
    }
}

fn role_label(r: &RoleSet) -> String {
    match &r.namespace {
        None => format!("ClusterRole {}", r.name),
        Some(ns) => format!("Role {ns}/{}", r.name),
    }
}

fn names(set: &std::collections::BTreeSet<String>) -> String {
    let shown: Vec<&str> = set.iter().take(NAMED).map(String::as_str).collect();
    let mut s = shown.join(", ");
    if set.len() > NAMED {
        s.push_str(&format!(" and {} more", set.len() - NAMED));
    }
    s
}

/// A YAML block of `v` indented by `indent` spaces (no trailing newline handling needed).
fn yaml_block(v: &Value, indent: usize) -> String {
    // Serializing a JSON value cannot fail (string keys, finite numbers); the fallback keeps
    // the function total.
    let text = serde_yaml_ng::to_string(v).unwrap_or_else(|_| v.to_string());
    let pad = " ".repeat(indent);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

fn comment(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    text.lines().map(|l| format!("{pad}# {l}\n")).collect()
}

/// `-o yaml`: the same objects and policy, each rule and statement under a comment naming what
/// needs it.
pub fn to_yaml(p: &Permissions, part: Part) -> String {
    let mut out = String::new();
    let subject = match &p.subject {
        Subject::ServiceAccount { namespace, name } => format!("ServiceAccount {namespace}/{name}"),
        Subject::User { name } => format!("User {name}"),
    };
    out.push_str(&comment(
        &format!(
            "eksync permissions for source {:?}, granted to {subject}.",
            p.source
        ),
        0,
    ));
    for n in &p.notes {
        out.push_str(&comment(n, 0));
    }
    if part != Part::Aws {
        for ns in &p.namespaces {
            out.push_str("---\n");
            out.push_str(&comment(
                "The repo creates this namespace; it is created here so that the Role in it can \
                 exist first (eksync then applies the repo's Namespace over it).",
                0,
            ));
            out.push_str(&yaml_block(&namespace_object(p, ns), 0));
        }
        for r in &p.roles {
            let (role, bind) = role_objects(p, r);
            out.push_str("---\n");
            let mut head = role.clone();
            if let Some(m) = head.as_object_mut() {
                m.remove("rules");
            }
            out.push_str(&yaml_block(&head, 0));
            out.push_str("rules:\n");
            for rule in &r.rules {
                out.push_str(&comment(
                    &format!("{}: {}", rule.purpose, names(&rule.needed_by)),
                    2,
                ));
                let block = yaml_block(&Value::Array(vec![rule_json(rule)]), 0);
                out.push_str(&block);
            }
            out.push_str("---\n");
            out.push_str(&yaml_block(&bind, 0));
        }
    }
    if part != Part::Kubernetes {
        if let Some(policy) = iam_policy(p) {
            out.push_str("---\n");
            out.push_str(&comment(
                "AWS: the agent's IAM policy (its IRSA role). `eksync permissions --for aws -o json` \
                 prints it as JSON for `aws iam put-role-policy`.",
                0,
            ));
            out.push_str("Version: '2012-10-17'\nStatement:\n");
            for (s, v) in p
                .iam
                .iter()
                .zip(policy["Statement"].as_array().into_iter().flatten())
            {
                out.push_str(&comment(&format!("needed by {}", names(&s.needed_by)), 0));
                out.push_str(&yaml_block(&Value::Array(vec![v.clone()]), 0));
            }
        }
    }
    out
}
