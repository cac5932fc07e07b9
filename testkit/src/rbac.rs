//! RBAC authorization of impersonated users, as kube-apiserver's RBAC authorizer does it: request
//! attributes parsed from the path like the apiserver's `RequestInfoFactory`, rule matching
//! (verbs, apiGroups, resources with subresources, resourceNames, `*` wildcards,
//! nonResourceURLs) over the Roles, ClusterRoles, RoleBindings and ClusterRoleBindings in the
//! store, the 403 messages of the apiserver, the escalation check on writing RBAC objects
//! (`bind` and `escalate` included), the bootstrap ClusterRoles every authenticated user gets,
//! and the review APIs (SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectAccessReview,
//! LocalSubjectAccessReview, SelfSubjectReview).
//!
//! It deliberately does not authenticate: a request without `Impersonate-User` is the admin
//! (`system:masters`, allowed everything), whatever token it carries, and any request may
//! impersonate (the admin may). It does not simulate the Node or webhook authorizers, ABAC,
//! `Impersonate-Extra-*`/`Impersonate-Uid`, the ClusterRole aggregation controller, or the
//! aggregated bootstrap roles (`admin`, `edit`, `view`); of the bootstrap roles only
//! `cluster-admin` and those bound to `system:authenticated` exist.

use serde_json::{json, Map, Value};

use crate::api::{ApiRequest, State, Target};
use crate::error::{qualified, ApiError};

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// An authenticated identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo {
    /// User name.
    pub name: String,
    /// Groups, in the order the apiserver reports them.
    pub groups: Vec<String>,
}

impl UserInfo {
    /// The identity of requests without impersonation: member of `system:masters`.
    pub fn admin() -> Self {
        UserInfo {
            name: "system:admin".into(),
            groups: vec!["system:masters".into(), "system:authenticated".into()],
        }
    }

    /// The identity the apiserver derives from `Impersonate-User` and `Impersonate-Group`: the
    /// given groups (for a service account user without groups: `system:serviceaccounts` and
    /// `system:serviceaccounts:<namespace>`), then `system:authenticated` unless already present
    /// (`system:unauthenticated` for `system:anonymous`).
    pub fn impersonated(name: &str, groups: &[String]) -> Self {
        let mut groups = groups.to_vec();
        if groups.is_empty() {
            if let Some(rest) = name.strip_prefix("system:serviceaccount:") {
                if let Some((ns, _)) = rest.split_once(':') {
                    groups.push("system:serviceaccounts".into());
                    groups.push(format!("system:serviceaccounts:{ns}"));
                }
            }
        }
        let extra = if name == "system:anonymous" {
            "system:unauthenticated"
        } else {
            "system:authenticated"
        };
        if !groups.iter().any(|g| g == extra) {
            groups.push(extra.into());
        }
        UserInfo {
            name: name.into(),
            groups,
        }
    }

    /// True for members of `system:masters`, whom the apiserver allows everything without RBAC.
    pub fn is_privileged(&self) -> bool {
        self.groups.iter().any(|g| g == "system:masters")
    }
}

/// Authorization attributes of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    /// Verb: get, list, watch, create, update, patch, delete, deletecollection (resource
    /// requests) or the lower-case HTTP method (non-resource requests).
    pub verb: String,
    /// True for `/api/{v}/...` and `/apis/{g}/{v}/...` with at least a resource.
    pub resource_request: bool,
    /// API group.
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource.
    pub subresource: String,
    /// Object name (also from a `metadata.name=` field selector on list and watch).
    pub name: String,
    /// Namespace (for `namespaces/{name}` the namespace itself).
    pub namespace: String,
    /// Request path.
    pub path: String,
}

/// Parses a request like the apiserver's `RequestInfoFactory`.
pub fn request_attributes(method: &str, path: &str, query: &[(String, String)]) -> Attributes {
    let mut a = Attributes {
        path: path.to_string(),
        verb: method.to_lowercase(),
        ..Attributes::default()
    };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if parts.len() < 3 || !matches!(parts[0], "api" | "apis") {
        return a;
    }
    let mut rest: &[&str] = &parts[1..];
    if parts[0] == "apis" {
        if rest.len() < 3 {
            return a;
        }
        a.group = rest[0].to_string();
        rest = &rest[1..];
    }
    a.resource_request = true;
    rest = &rest[1..];
    a.verb = match method {
        "POST" => "create",
        "GET" | "HEAD" => "get",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => "",
    }
    .to_string();
    if rest.first() == Some(&"namespaces") {
        if let Some(ns) = rest.get(1) {
            a.namespace = ns.to_string();
            if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
                rest = &rest[2..];
            }
        }
    }
    if let Some(r) = rest.first() {
        a.resource = r.to_string();
    }
    if let Some(n) = rest.get(1) {
        a.name = n.to_string();
    }
    if let Some(s) = rest.get(2) {
        a.subresource = s.to_string();
    }
    let q = |k: &str| {
        query
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    if a.name.is_empty() && a.verb == "get" {
        a.verb = if matches!(q("watch"), Some("true" | "1")) {
            "watch"
        } else {
            "list"
        }
        .into();
        if let Some(fs) = q("fieldSelector") {
            let exact: Vec<&str> = fs.split(',').collect();
            if let [only] = exact.as_slice() {
                let name = only
                    .strip_prefix("metadata.name==")
                    .or_else(|| only.strip_prefix("metadata.name="));
                if let Some(n) = name.filter(|n| !n.is_empty() && !n.contains('/')) {
                    a.name = n.to_string();
                }
            }
        }
    }
    if a.name.is_empty() && a.verb == "delete" {
        a.verb = "deletecollection".into();
    }
    a
}

/// One PolicyRule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    /// Verbs.
    pub verbs: Vec<String>,
    /// API groups.
    pub api_groups: Vec<String>,
    /// Resources (`resource/subresource`, `*`, `*/subresource`).
    pub resources: Vec<String>,
    /// Resource names (empty: any).
    pub resource_names: Vec<String>,
    /// Non-resource URLs (a trailing `*` is a prefix match).
    pub non_resource_urls: Vec<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn has(list: &[String], s: &str) -> bool {
    list.iter().any(|x| x == s)
}

impl Rule {
    /// Reads a PolicyRule.
    pub fn from_json(v: &Value) -> Self {
        Rule {
            verbs: strings(&v["verbs"]),
            api_groups: strings(&v["apiGroups"]),
            resources: strings(&v["resources"]),
            resource_names: strings(&v["resourceNames"]),
            non_resource_urls: strings(&v["nonResourceURLs"]),
        }
    }

    /// True when this rule allows the request (the RBAC authorizer's `RuleAllows`).
    pub fn allows(&self, a: &Attributes) -> bool {
        let verb = has(&self.verbs, "*") || has(&self.verbs, &a.verb);
        if !a.resource_request {
            return verb
                && self.non_resource_urls.iter().any(|u| {
                    u == "*"
                        || *u == a.path
                        || u.strip_suffix('*')
                            .is_some_and(|prefix| a.path.starts_with(prefix))
                });
        }
        let combined = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        let group = has(&self.api_groups, "*") || has(&self.api_groups, &a.group);
        let resource = self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!a.subresource.is_empty()
                    && r.strip_prefix("*/") == Some(a.subresource.as_str()))
        });
        let name = self.resource_names.is_empty() || has(&self.resource_names, &a.name);
        verb && group && resource && name
    }

    /// True when this rule covers `sub`, an atomic rule of one verb and one resource or URL
    /// (the escalation check's `ruleCovers`).
    fn covers(&self, sub: &Rule) -> bool {
        let all = |owner: &[String], servant: &[String], star: &str| {
            has(owner, star) || servant.iter().all(|s| has(owner, s))
        };
        let verbs = all(&self.verbs, &sub.verbs, "*");
        let groups = all(&self.api_groups, &sub.api_groups, "*");
        let resources = has(&self.resources, "*")
            || sub.resources.iter().all(|s| {
                has(&self.resources, s)
                    || s.split_once('/')
                        .is_some_and(|(_, subres)| has(&self.resources, &format!("*/{subres}")))
            });
        let urls = sub.non_resource_urls.iter().all(|s| {
            self.non_resource_urls.iter().any(|o| {
                o == s
                    || o.strip_suffix('*')
                        .is_some_and(|prefix| s.starts_with(prefix.trim_end_matches('*')))
            })
        });
        let names = if sub.resource_names.is_empty() {
            self.resource_names.is_empty()
        } else {
            self.resource_names.is_empty()
                || sub
                    .resource_names
                    .iter()
                    .all(|n| has(&self.resource_names, n))
        };
        verbs && groups && resources && urls && names
    }

    /// Splits a rule into one rule per group, resource, verb and resource name, and per URL and
    /// verb (`BreakdownRule`).
    fn breakdown(&self) -> Vec<Rule> {
        let mut out = Vec::new();
        for g in &self.api_groups {
            for r in &self.resources {
                for v in &self.verbs {
                    let one = |names: Vec<String>| Rule {
                        verbs: vec![v.clone()],
                        api_groups: vec![g.clone()],
                        resources: vec![r.clone()],
                        resource_names: names,
                        non_resource_urls: Vec::new(),
                    };
                    if self.resource_names.is_empty() {
                        out.push(one(Vec::new()));
                    } else {
                        out.extend(self.resource_names.iter().map(|n| one(vec![n.clone()])));
                    }
                }
            }
        }
        for u in &self.non_resource_urls {
            for v in &self.verbs {
                out.push(Rule {
                    verbs: vec![v.clone()],
                    non_resource_urls: vec![u.clone()],
                    ..Rule::default()
                });
            }
        }
        out
    }

    /// The compact form of escalation messages (`CompactString`).
    fn compact_string(&self) -> String {
        let mut parts = Vec::new();
        for (label, list) in [
            ("APIGroups", &self.api_groups),
            ("Resources", &self.resources),
            ("NonResourceURLs", &self.non_resource_urls),
            ("ResourceNames", &self.resource_names),
            ("Verbs", &self.verbs),
        ] {
            if !list.is_empty() {
                parts.push(format!("{label}:{}", go_quote_list(list)));
            }
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// Go's `%q` of a string.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
fn go_quote_list(list: &[String]) -> String {
    let items: Vec<String> = list.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", items.join(" "))
}

/// Rules granted by one binding, with the binding described as the authorizer's reasons do.
#[derive(Debug, Clone)]
struct Grant {
    source: String,
    rules: Vec<Rule>,
}

fn subject_applies(subject: &Value, user: &UserInfo, namespace: &str) -> bool {
    let name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str().unwrap_or_default() {
        "User" => user.name == name,
        "Group" => has(&user.groups, name),
        "ServiceAccount" => {
            let ns = match subject["namespace"].as_str() {
                Some(n) if !n.is_empty() => n,
                _ => namespace,
            };
            !ns.is_empty() && user.name == format!("system:serviceaccount:{ns}:{name}")
        }
        _ => false,
    }
}

fn describe_subject(subject: &Value, binding_ns: &str) -> String {
    let kind = subject["kind"].as_str().unwrap_or_default();
    let name = subject["name"].as_str().unwrap_or_default();
    if kind == "ServiceAccount" {
        let ns = match subject["namespace"].as_str() {
            Some(n) if !n.is_empty() => n,
            _ => binding_ns,
        };
        return format!("{kind} {}", go_quote(&format!("{name}/{ns}")));
    }
    format!("{kind} {}", go_quote(name))
}

/// The rules of a `roleRef` (a Role in `namespace`, or a ClusterRole); `Err` is the NotFound of
/// a missing role.
fn role_ref_rules(state: &State, role_ref: &Value, namespace: &str) -> Result<Vec<Rule>, ApiError> {
    let name = role_ref["name"].as_str().unwrap_or_default();
    let (resource, ns) = match role_ref["kind"].as_str() {
        Some("Role") => ("roles", namespace),
        Some("ClusterRole") => ("clusterroles", ""),
        other => {
            return Err(ApiError::internal(format!(
                "unsupported role reference kind: {}",
                go_quote(other.unwrap_or_default())
            )))
        }
    };
    let key = (
        RBAC_GROUP.to_string(),
        resource.to_string(),
        ns.to_string(),
        name.to_string(),
    );
    let role = state
        .store
        .get(&key)
        .ok_or_else(|| ApiError::not_found(RBAC_GROUP, resource, name))?;
    Ok(role["rules"]
        .as_array()
        .map(|a| a.iter().map(Rule::from_json).collect())
        .unwrap_or_default())
}

/// Every binding that applies to `user`: ClusterRoleBindings first, then the RoleBindings of
/// `namespace` (the order the authorizer visits them in).
fn grants(state: &State, user: &UserInfo, namespace: &str) -> Vec<Grant> {
    let mut out = Vec::new();
    for b in state.store.list(RBAC_GROUP, "clusterrolebindings", None) {
        let Some(subject) = b["subjects"]
            .as_array()
            .and_then(|s| s.iter().find(|s| subject_applies(s, user, "")))
        else {
            continue;
        };
        let Ok(rules) = role_ref_rules(state, &b["roleRef"], "") else {
            continue;
        };
        out.push(Grant {
            source: format!(
                "ClusterRoleBinding {} of {} {} to {}",
                go_quote(b["metadata"]["name"].as_str().unwrap_or_default()),
                b["roleRef"]["kind"].as_str().unwrap_or_default(),
                go_quote(b["roleRef"]["name"].as_str().unwrap_or_default()),
                describe_subject(subject, "")
            ),
            rules,
        });
    }
    if namespace.is_empty() {
        return out;
    }
    for b in state
        .store
        .list(RBAC_GROUP, "rolebindings", Some(namespace))
    {
        let Some(subject) = b["subjects"]
            .as_array()
            .and_then(|s| s.iter().find(|s| subject_applies(s, user, namespace)))
        else {
            continue;
        };
        let Ok(rules) = role_ref_rules(state, &b["roleRef"], namespace) else {
            continue;
        };
        out.push(Grant {
            source: format!(
                "RoleBinding {} of {} {} to {}",
                go_quote(&format!(
                    "{}/{namespace}",
                    b["metadata"]["name"].as_str().unwrap_or_default()
                )),
                b["roleRef"]["kind"].as_str().unwrap_or_default(),
                go_quote(b["roleRef"]["name"].as_str().unwrap_or_default()),
                describe_subject(subject, namespace)
            ),
            rules,
        });
    }
    out
}

/// An authorization decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allowed.
    pub allowed: bool,
    /// The authorizer's reason (`RBAC: allowed by ...`), empty when denied or for
    /// `system:masters`.
    pub reason: String,
}

/// Authorizes a request of `user` (members of `system:masters` are always allowed).
pub fn authorize(state: &State, user: &UserInfo, a: &Attributes) -> Decision {
    if user.is_privileged() {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    for g in grants(state, user, &a.namespace) {
        if g.rules.iter().any(|r| r.allows(a)) {
            return Decision {
                allowed: true,
                reason: format!("RBAC: allowed by {}", g.source),
            };
        }
    }
    Decision {
        allowed: false,
        reason: String::new(),
    }
}

/// The apiserver's 403 for a denied request.
pub fn forbidden(user: &UserInfo, a: &Attributes) -> ApiError {
    if !a.resource_request {
        return ApiError::new(
            403,
            "Forbidden",
            format!(
                "forbidden: User {} cannot {} path {}",
                go_quote(&user.name),
                a.verb,
                go_quote(&a.path)
            ),
            Some(json!({})),
        );
    }
    let resource = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace {}", go_quote(&a.namespace))
    };
    let why = format!(
        "User {} cannot {} resource {} in API group {} {scope}",
        go_quote(&user.name),
        a.verb,
        go_quote(&resource),
        go_quote(&a.group),
    );
    forbidden_status(&a.group, &a.resource, &a.name, &why)
}

/// `NewForbidden(groupResource, name, err)`.
fn forbidden_status(group: &str, resource: &str, name: &str, why: &str) -> ApiError {
    let q = qualified(resource, group);
    let message = if name.is_empty() {
        format!("{q} is forbidden: {why}")
    } else {
        format!("{q} {} is forbidden: {why}", go_quote(name))
    };
    let mut details = Map::new();
    if !name.is_empty() {
        details.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        details.insert("group".into(), json!(group));
    }
    details.insert("kind".into(), json!(resource));
    ApiError::new(403, "Forbidden", message, Some(Value::Object(details)))
}

/// Authorizes a request as a whole; `Ok` for the admin and for allowed impersonated users.
pub fn check_request(state: &State, req: &ApiRequest) -> Result<(), ApiError> {
    let Some(user) = &req.user else {
        return Ok(());
    };
    let a = request_attributes(&req.method, &req.path, &req.query);
    if authorize(state, user, &a).allowed {
        Ok(())
    } else {
        Err(forbidden(user, &a))
    }
}

/// The second check of a server-side apply that creates its object: the user also needs
/// `create` (the 403 names `create`).
pub fn check_create_on_apply(state: &State, t: &Target, req: &ApiRequest) -> Result<(), ApiError> {
    let Some(user) = &req.user else {
        return Ok(());
    };
    let a = Attributes {
        verb: "create".into(),
        resource_request: true,
        group: t.info.group.clone(),
        resource: t.info.resource.clone(),
        subresource: t.sub.clone().unwrap_or_default(),
        name: t.name.clone().unwrap_or_default(),
        namespace: t.namespace.clone().unwrap_or_default(),
        path: req.path.clone(),
    };
    if authorize(state, user, &a).allowed {
        Ok(())
    } else {
        Err(forbidden(user, &a))
    }
}

/// Every rule `user` holds in `namespace` (cluster-wide rules included).
fn rules_for(state: &State, user: &UserInfo, namespace: &str) -> Vec<Rule> {
    grants(state, user, namespace)
        .into_iter()
        .flat_map(|g| g.rules)
        .collect()
}

/// `CompactRules`: atomic rules of one group and resource (and at most one name) that differ
/// only in their verb are merged.
fn compact(rules: Vec<Rule>) -> Vec<Rule> {
    let mut simple: Vec<Rule> = Vec::new();
    let mut other = Vec::new();
    for r in rules {
        let is_simple = r.resource_names.len() <= 1
            && r.non_resource_urls.is_empty()
            && r.api_groups.len() == 1
            && r.resources.len() == 1;
        if !is_simple {
            other.push(r);
            continue;
        }
        match simple.iter_mut().find(|s| {
            s.api_groups == r.api_groups
                && s.resources == r.resources
                && s.resource_names == r.resource_names
        }) {
            Some(s) => s.verbs.extend(r.verbs),
            None => simple.push(r),
        }
    }
    other.extend(simple);
    other
}

/// `ConfirmNoEscalation`: `Err` with the apiserver's 403 when `requested` holds a permission
/// that `user` does not hold in `namespace`.
fn confirm_no_escalation(
    state: &State,
    user: &UserInfo,
    namespace: &str,
    requested: &[Rule],
    t: &Target,
    name: &str,
) -> Result<(), ApiError> {
    let owned = rules_for(state, user, namespace);
    let missing: Vec<Rule> = requested
        .iter()
        .flat_map(Rule::breakdown)
        .filter(|sub| !owned.iter().any(|o| o.covers(sub)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut lines: Vec<String> = compact(missing).iter().map(Rule::compact_string).collect();
    lines.sort();
    lines.dedup();
    let why = format!(
        "user {} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        go_quote(&user.name),
        go_quote_list(&user.groups),
        lines.join("\n")
    );
    Err(forbidden_status(
        &t.info.group,
        &t.info.resource,
        name,
        &why,
    ))
}

/// The object without what a garbage-collection-only change touches, for
/// `IsOnlyMutatingGCFields`.
fn without_gc_fields(obj: &Value) -> Value {
    let mut v = crate::managed::comparable(obj);
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.shift_remove("ownerReferences");
        m.shift_remove("finalizers");
    }
    v
}

/// The escalation check on writing a Role, ClusterRole, RoleBinding or ClusterRoleBinding as an
/// impersonated user: the user needs every permission the object grants (in its namespace), or
/// `escalate` on the role / `bind` on the referenced role. Other writes pass.
pub fn check_escalation(
    state: &State,
    t: &Target,
    req: &ApiRequest,
    obj: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
    let Some(user) = &req.user else {
        return Ok(());
    };
    if user.is_privileged() || t.info.group != RBAC_GROUP || t.sub.is_some() {
        return Ok(());
    }
    if old.is_some_and(|o| without_gc_fields(o) == without_gc_fields(obj)) {
        return Ok(());
    }
    let namespace = t.namespace.clone().unwrap_or_default();
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let attrs = |verb: &str, resource: &str, name: &str| Attributes {
        verb: verb.into(),
        resource_request: true,
        group: RBAC_GROUP.into(),
        resource: resource.into(),
        name: name.into(),
        namespace: namespace.clone(),
        path: req.path.clone(),
        ..Attributes::default()
    };
    match t.info.resource.as_str() {
        "roles" | "clusterroles" => {
            let url_name = t.name.clone().unwrap_or_default();
            if authorize(state, user, &attrs("escalate", &t.info.resource, &url_name)).allowed {
                return Ok(());
            }
            let rules: Vec<Rule> = if obj.get("aggregationRule").is_some_and(|a| !a.is_null()) {
                vec![
                    Rule {
                        verbs: vec!["*".into()],
                        api_groups: vec!["*".into()],
                        resources: vec!["*".into()],
                        ..Rule::default()
                    },
                    Rule {
                        verbs: vec!["*".into()],
                        non_resource_urls: vec!["*".into()],
                        ..Rule::default()
                    },
                ]
            } else {
                obj["rules"]
                    .as_array()
                    .map(|a| a.iter().map(Rule::from_json).collect())
                    .unwrap_or_default()
            };
            confirm_no_escalation(state, user, &namespace, &rules, t, name)
        }
        "rolebindings" | "clusterrolebindings" => {
            let role_ref = &obj["roleRef"];
            let ref_resource = if role_ref["kind"] == json!("Role") {
                "roles"
            } else {
                "clusterroles"
            };
            let mut bind = attrs(
                "bind",
                ref_resource,
                role_ref["name"].as_str().unwrap_or_default(),
            );
            bind.group = role_ref["apiGroup"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if authorize(state, user, &bind).allowed {
                return Ok(());
            }
            let rules = role_ref_rules(state, role_ref, &namespace)?;
            confirm_no_escalation(state, user, &namespace, &rules, t, name)
        }
        _ => Ok(()),
    }
}

fn rbac_object(kind: &str, name: &str, body: Value) -> Value {
    let mut obj = json!({
        "kind": kind,
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}
        }
    });
    if let (Some(o), Some(b)) = (obj.as_object_mut(), body.as_object()) {
        for (k, v) in b {
            o.insert(k.clone(), v.clone());
        }
    }
    obj
}

/// The bootstrap ClusterRoles and ClusterRoleBindings of the recorded cluster that matter to
/// authorization: `cluster-admin` (bound to `system:masters`), `system:discovery`,
/// `system:basic-user`, `system:public-info-viewer` and OpenShift's
/// `system:openshift:public-info-viewer` (bound to `system:authenticated`, the last two also to
/// `system:unauthenticated`), as (resource, name, object).
pub fn bootstrap_objects() -> Vec<(&'static str, &'static str, Value)> {
    let get_urls = |urls: &[&str]| json!([{"verbs": ["get"], "nonResourceURLs": urls}]);
    let roles: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "cluster-admin",
            json!([
                {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
                {"verbs": ["*"], "nonResourceURLs": ["*"]}
            ]),
            vec!["system:masters"],
        ),
        (
            "system:discovery",
            get_urls(&[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ]),
            vec!["system:authenticated"],
        ),
        (
            "system:basic-user",
            json!([
                {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
                 "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]},
                {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"],
                 "resources": ["selfsubjectreviews"]}
            ]),
            vec!["system:authenticated"],
        ),
        (
            "system:public-info-viewer",
            get_urls(&["/healthz", "/livez", "/readyz", "/version", "/version/"]),
            vec!["system:authenticated", "system:unauthenticated"],
        ),
        (
            "system:openshift:public-info-viewer",
            get_urls(&["/.well-known", "/.well-known/*"]),
            vec!["system:authenticated", "system:unauthenticated"],
        ),
    ];
    let mut out = Vec::new();
    for (name, rules, groups) in roles {
        out.push((
            "clusterroles",
            name,
            rbac_object("ClusterRole", name, json!({"rules": rules})),
        ));
        let subjects: Vec<Value> = groups
            .iter()
            .map(|g| json!({"kind": "Group", "apiGroup": RBAC_GROUP, "name": g}))
            .collect();
        out.push((
            "clusterrolebindings",
            name,
            rbac_object(
                "ClusterRoleBinding",
                name,
                json!({"subjects": subjects,
                    "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name}}),
            ),
        ));
    }
    out
}

/// True for the review resources this module answers instead of storing them.
pub fn is_review(t: &Target) -> bool {
    matches!(
        (t.info.group.as_str(), t.info.resource.as_str()),
        (
            "authorization.k8s.io",
            "selfsubjectaccessreviews"
                | "selfsubjectrulesreviews"
                | "subjectaccessreviews"
                | "localsubjectaccessreviews"
        ) | ("authentication.k8s.io", "selfsubjectreviews")
    )
}

fn review_invalid(kind: &str, field: &str, detail: &str) -> ApiError {
    ApiError::invalid(
        (kind, "authorization.k8s.io"),
        "",
        &[crate::error::FieldError::invalid(
            field,
            &json!("null"),
            detail,
        )],
    )
}

/// Attributes of an access review's `spec` (resourceAttributes or nonResourceAttributes).
fn review_attributes(kind: &str, spec: &Value) -> Result<Attributes, ApiError> {
    let ra = spec.get("resourceAttributes").filter(|v| v.is_object());
    let na = spec.get("nonResourceAttributes").filter(|v| v.is_object());
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    match (ra, na) {
        (Some(r), None) => Ok(Attributes {
            verb: s(r, "verb"),
            resource_request: true,
            group: s(r, "group"),
            resource: s(r, "resource"),
            subresource: s(r, "subresource"),
            name: s(r, "name"),
            namespace: s(r, "namespace"),
            path: String::new(),
        }),
        (None, Some(n)) => Ok(Attributes {
            verb: s(n, "verb"),
            path: s(n, "path"),
            ..Attributes::default()
        }),
        (Some(_), Some(_)) => Err(review_invalid(
            kind,
            "spec.nonResourceAttributes",
            "cannot be specified in combination with resourceAttributes",
        )),
        (None, None) => Err(review_invalid(
            kind,
            "spec.resourceAttributes",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )),
    }
}

fn decision_status(d: &Decision) -> Value {
    let mut st = Map::new();
    st.insert("allowed".into(), json!(d.allowed));
    if !d.reason.is_empty() {
        st.insert("reason".into(), json!(d.reason));
    }
    Value::Object(st)
}

/// The `Update` managedFields entry a review's create records (what the client sent).
fn review_managed(t: &Target, req: &ApiRequest, body: &mut Value, now: &str) {
    let kind = t.info.kind.clone();
    let schema = crate::schema::Schema::builtin(&kind);
    let api_version = t.info.api_version();
    let manager = req.manager();
    let mut entries = Vec::new();
    // `spec` is a non-pointer struct: it exists (empty) before the client sets anything, so it
    // gets no "." entry of its own.
    let empty = json!({"apiVersion": api_version, "kind": kind, "metadata": {}, "spec": {}});
    crate::managed::update(
        &mut entries,
        &empty,
        body,
        &schema,
        crate::managed::Writer {
            manager: &manager,
            api_version: &api_version,
            subresource: None,
            now,
        },
    );
    crate::managed::render(body, &entries);
}

/// Answers a POST of a review resource (see [`is_review`]) as the requesting user.
pub fn review(state: &State, t: &Target, req: &ApiRequest, now: &str) -> Result<Value, ApiError> {
    let mut body: Value = serde_json::from_slice(&req.body).map_err(|e| {
        ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): {e}",
            t.info.kind
        ))
    })?;
    if !body.is_object() {
        return Err(ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {})",
            t.info.kind
        )));
    }
    let me = req.user.clone().unwrap_or_else(UserInfo::admin);
    let kind = t.info.kind.as_str();
    if let Some(m) = body.as_object_mut() {
        m.insert("kind".into(), json!(kind));
        m.insert("apiVersion".into(), json!(t.info.api_version()));
        m.shift_remove("status");
        if !m.get("metadata").is_some_and(Value::is_object) {
            m.insert("metadata".into(), json!({}));
        }
    }
    match t.info.resource.as_str() {
        "selfsubjectrulesreviews" => {
            let ns = body["spec"]["namespace"].as_str().unwrap_or_default();
            let (mut resource_rules, mut non_resource_rules) = (Vec::new(), Vec::new());
            for r in rules_for(state, &me, ns) {
                if !r.resources.is_empty() {
                    let mut e = Map::new();
                    e.insert("verbs".into(), json!(r.verbs));
                    if !r.api_groups.is_empty() {
                        e.insert("apiGroups".into(), json!(r.api_groups));
                    }
                    e.insert("resources".into(), json!(r.resources));
                    if !r.resource_names.is_empty() {
                        e.insert("resourceNames".into(), json!(r.resource_names));
                    }
                    resource_rules.push(Value::Object(e));
                }
                if !r.non_resource_urls.is_empty() {
                    non_resource_rules
                        .push(json!({"verbs": r.verbs, "nonResourceURLs": r.non_resource_urls}));
                }
            }
            Ok(json!({
                "kind": kind, "apiVersion": t.info.api_version(), "metadata": {}, "spec": {},
                "status": {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules,
                    "incomplete": false}
            }))
        }
        "selfsubjectreviews" => Ok(json!({
            "kind": kind, "apiVersion": t.info.api_version(),
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {"username": me.name, "groups": me.groups}}
        })),
        resource => {
            let spec = body["spec"].clone();
            let mut attrs = review_attributes(kind, &spec)?;
            let subject = match resource {
                "selfsubjectaccessreviews" => me,
                _ => {
                    let user = spec["user"].as_str().unwrap_or_default();
                    let groups = strings(&spec["groups"]);
                    if user.is_empty() && groups.is_empty() {
                        return Err(review_invalid(
                            kind,
                            "spec.user",
                            "at least one of user or group must be specified",
                        ));
                    }
                    UserInfo {
                        name: user.to_string(),
                        groups,
                    }
                }
            };
            if resource == "localsubjectaccessreviews" {
                let ns = t.namespace.clone().unwrap_or_default();
                if attrs.resource_request && attrs.namespace != ns {
                    return Err(review_invalid(
                        kind,
                        "spec.resourceAttributes.namespace",
                        "must match metadata.namespace",
                    ));
                }
                attrs.namespace = ns;
            }
            let d = authorize(state, &subject, &attrs);
            review_managed(t, req, &mut body, now);
            if let Some(m) = body.as_object_mut() {
                m.insert("status".into(), decision_status(&d));
            }
            Ok(body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn request_attributes_follow_request_info() {
        let a = request_attributes("GET", "/api/v1/namespaces/ns/configmaps/x", &[]);
        assert_eq!(
            (
                a.verb.as_str(),
                a.resource.as_str(),
                a.name.as_str(),
                a.namespace.as_str()
            ),
            ("get", "configmaps", "x", "ns")
        );
        let a = request_attributes("GET", "/apis/apps/v1/deployments", &q(&[("watch", "true")]));
        assert_eq!((a.verb.as_str(), a.group.as_str()), ("watch", "apps"));
        let a = request_attributes(
            "GET",
            "/api/v1/namespaces/ns/secrets",
            &q(&[("fieldSelector", "metadata.name=s")]),
        );
        assert_eq!((a.verb.as_str(), a.name.as_str()), ("list", "s"));
        let a = request_attributes(
            "PATCH",
            "/apis/apps/v1/namespaces/ns/deployments/web/status",
            &[],
        );
        assert_eq!(
            (a.verb.as_str(), a.subresource.as_str()),
            ("patch", "status")
        );
        let a = request_attributes("GET", "/api/v1/namespaces/foo", &[]);
        assert_eq!(
            (a.resource.as_str(), a.name.as_str(), a.namespace.as_str()),
            ("namespaces", "foo", "foo")
        );
        let a = request_attributes("DELETE", "/api/v1/namespaces/ns/configmaps", &[]);
        assert_eq!(a.verb, "deletecollection");
        let a = request_attributes("GET", "/apis/apps/v1", &[]);
        assert!(!a.resource_request);
        assert_eq!(a.verb, "get");
    }

    #[test]
    fn rules_match_like_the_rbac_authorizer() {
        let rule = |v: Value| Rule::from_json(&v);
        let req = |verb: &str, group: &str, res: &str, sub: &str, name: &str| Attributes {
            verb: verb.into(),
            resource_request: true,
            group: group.into(),
            resource: res.into(),
            subresource: sub.into(),
            name: name.into(),
            namespace: "ns".into(),
            path: String::new(),
        };
        let r =
            rule(json!({"verbs": ["get"], "apiGroups": ["apps"], "resources": ["deployments"]}));
        assert!(r.allows(&req("get", "apps", "deployments", "", "web")));
        assert!(!r.allows(&req("get", "apps", "deployments", "status", "web")));
        assert!(!r.allows(&req("list", "apps", "deployments", "", "")));
        assert!(!r.allows(&req("get", "", "deployments", "", "web")));
        let r = rule(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*/status"]}));
        assert!(r.allows(&req("patch", "apps", "deployments", "status", "web")));
        assert!(!r.allows(&req("patch", "apps", "deployments", "", "web")));
        let r = rule(
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a"]}),
        );
        assert!(r.allows(&req("get", "", "secrets", "", "a")));
        assert!(!r.allows(&req("get", "", "secrets", "", "b")));
        assert!(!r.allows(&req("list", "", "secrets", "", "")));
        let r = rule(json!({"verbs": ["get"], "nonResourceURLs": ["/apis/*", "/version"]}));
        let path = |p: &str| Attributes {
            verb: "get".into(),
            path: p.into(),
            ..Attributes::default()
        };
        assert!(r.allows(&path("/apis/apps/v1")));
        assert!(r.allows(&path("/version")));
        assert!(!r.allows(&path("/version/x")));
    }

    #[test]
    fn escalation_messages_compact_missing_rules() {
        let owner = [Rule::from_json(
            &json!({"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}),
        )];
        let wanted = Rule::from_json(
            &json!({"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["secrets"]}),
        );
        let missing: Vec<Rule> = wanted
            .breakdown()
            .into_iter()
            .filter(|s| !owner.iter().any(|o| o.covers(s)))
            .collect();
        let lines: Vec<String> = compact(missing).iter().map(Rule::compact_string).collect();
        assert_eq!(
            lines,
            vec![r#"{APIGroups:[""], Resources:["secrets"], Verbs:["list" "watch"]}"#]
        );
    }

    #[test]
    fn impersonated_groups() {
        let u = UserInfo::impersonated("alice", &[]);
        assert_eq!(u.groups, vec!["system:authenticated"]);
        let u = UserInfo::impersonated("system:serviceaccount:ns:sa", &[]);
        assert_eq!(
            u.groups,
            vec![
                "system:serviceaccounts",
                "system:serviceaccounts:ns",
                "system:authenticated"
            ]
        );
        let u = UserInfo::impersonated("bob", &["dev".to_string()]);
        assert_eq!(u.groups, vec!["dev", "system:authenticated"]);
        assert!(!u.is_privileged());
        assert!(UserInfo::admin().is_privileged());
    }
}
