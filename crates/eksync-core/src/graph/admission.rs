//! Edges for what the API server itself calls: admission webhooks and aggregated APIs.
//!
//! A `ValidatingWebhookConfiguration`/`MutatingWebhookConfiguration` whose webhook has
//! `failurePolicy: Fail` (v1's default) makes the API server refuse every request it intercepts
//! until the webhook answers. So the configuration waits for the Service it calls and for the
//! workloads behind that Service (pod template labels matching the Service's selector, same
//! namespace), and every object its `rules` intercept (CREATE or UPDATE, group, version where
//! `matchPolicy: Exact`, resource plural, scope) waits for the configuration, unless a
//! `namespaceSelector`/`objectSelector` clearly excludes it. An `APIService` with `spec.service`
//! waits for that Service and its backends the same way.
//!
//! Never a cycle: an object the configuration already waits for (its Service, the backends,
//! their ServiceAccounts, ConfigMaps, Secrets and bindings, the namespace, anything named by
//! `eksync.io/depends-on`) is exempt from its interception, and objects of
//! admissionregistration.k8s.io are never intercepted (the API server does not call webhooks for
//! them). Selectors are evaluated offline and conservatively: labels Git does not set for a
//! namespace outside the repo are unknown, and an unknown label never excludes. A URL-addressed
//! webhook still goes before what it intercepts, but waits for nothing (nothing in the repo
//! serves it). It does not model webhooks with `failurePolicy: Ignore` (they refuse nothing) nor
//! `matchConditions` (CEL needs the request, so a condition never excludes).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::Builder;
use crate::kdiff::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_LABEL};
use crate::kube;
use crate::model::KubeObject;

const ADMISSION_GROUP: &str = "admissionregistration.k8s.io";
/// The label the API server puts on every namespace: its name.
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

fn is_webhook_config(o: &KubeObject) -> bool {
    o.key.group == ADMISSION_GROUP
        && matches!(
            o.key.kind.as_str(),
            "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration"
        )
}

/// One webhook of a configuration, as far as ordering needs it.
struct Hook<'a> {
    name: &'a str,
    service: Option<(&'a str, &'a str)>,
    rules: Vec<Rule>,
    /// `matchPolicy: Exact`: the version must match too (the default, Equivalent, converts).
    exact: bool,
    namespace_selector: Option<&'a Value>,
    object_selector: Option<&'a Value>,
}

/// One entry of a webhook's `rules`, keeping only CREATE/UPDATE (what an apply sends).
struct Rule {
    groups: Vec<String>,
    versions: Vec<String>,
    resources: Vec<String>,
    /// `CREATE`, `UPDATE` or `*`, as written.
    operations: Vec<String>,
    /// `Cluster`, `Namespaced` or `*`.
    scope: String,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// The webhooks of a configuration that fail closed: `failurePolicy: Fail`, or unset in v1
/// (v1beta1's default was Ignore).
fn failing_hooks(o: &KubeObject) -> Vec<Hook<'_>> {
    let (_, version) = kube::split_api_version(&o.api_version);
    let default_fail = version != "v1beta1";
    let mut out = Vec::new();
    for h in o
        .body
        .get("webhooks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let fails = match kube::get_str(h, &["failurePolicy"]) {
            Some(p) => p == "Fail",
            None => default_fail,
        };
        if !fails {
            continue;
        }
        let service = kube::get(h, &["clientConfig", "service"]).and_then(|s| {
            Some((
                kube::get_str(s, &["namespace"])?,
                kube::get_str(s, &["name"])?,
            ))
        });
        let rules = h
            .get("rules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| Rule {
                groups: strings(r.get("apiGroups")),
                versions: strings(r.get("apiVersions")),
                resources: strings(r.get("resources")),
                operations: strings(r.get("operations"))
                    .into_iter()
                    .filter(|op| matches!(op.as_str(), "CREATE" | "UPDATE" | "*"))
                    .collect(),
                scope: kube::get_str(r, &["scope"]).unwrap_or("*").to_string(),
            })
            .filter(|r| !r.operations.is_empty())
            .collect();
        out.push(Hook {
            name: kube::get_str(h, &["name"]).unwrap_or("(unnamed)"),
            service,
            rules,
            exact: kube::get_str(h, &["matchPolicy"]) == Some("Exact"),
            namespace_selector: h.get("namespaceSelector"),
            object_selector: h.get("objectSelector"),
        });
    }
    out
}

/// What the API server resolves an object to: resource plural, and whether it is namespaced.
struct Resource {
    group: String,
    version: String,
    plural: String,
    namespaced: bool,
}

impl Rule {
    /// Whether this rule intercepts an apply of `r`; the operations it matches by, if so.
    fn intercepts(&self, r: &Resource, exact: bool) -> Option<String> {
        let any = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
        let resource = self
            .resources
            .iter()
            .any(|x| x == "*" || x == "*/*" || *x == r.plural);
        let scope = match self.scope.as_str() {
            "Cluster" => !r.namespaced,
            "Namespaced" => r.namespaced,
            _ => true,
        };
        let matched = any(&self.groups, &r.group)
            && (!exact || any(&self.versions, &r.version))
            && resource
            && scope;
        matched.then(|| self.operations.join("/"))
    }
}

/// Labels as far as they are known offline.
struct Labels {
    known: BTreeMap<String, String>,
    /// Whether a key missing from `known` is known to be absent.
    complete: bool,
    /// Keys whose value is never known offline (set by the reader, not Git).
    unknown: &'static [&'static str],
}

impl Labels {
    fn of(body: &Value, complete: bool) -> Labels {
        let known = body
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        Labels {
            known,
            complete,
            unknown: &[],
        }
    }

    /// `Some(Some(v))` set to `v`, `Some(None)` known to be absent, `None` unknown.
    fn get(&self, key: &str) -> Option<Option<&str>> {
        if self.unknown.contains(&key) {
            return None;
        }
        match self.known.get(key) {
            Some(v) => Some(Some(v.as_str())),
            None if self.complete => Some(None),
            None => None,
        }
    }

    /// Whether a label selector clearly does not select these labels. An absent selector, an
    /// unknown label or an operator this does not know never excludes.
    fn excluded_by(&self, selector: Option<&Value>) -> bool {
        let Some(sel) = selector else {
            return false;
        };
        let match_labels = sel
            .get("matchLabels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten();
        for (k, v) in match_labels {
            match self.get(k) {
                Some(Some(have)) if Some(have) != v.as_str() => return true,
                Some(None) => return true,
                _ => {}
            }
        }
        for e in sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(key) = kube::get_str(e, &["key"]) else {
                continue;
            };
            let values = strings(e.get("values"));
            let has = |v: &str| values.iter().any(|x| x == v);
            let out = match (kube::get_str(e, &["operator"]), self.get(key)) {
                (_, None) => false,
                (Some("In"), Some(v)) => !v.is_some_and(has),
                (Some("NotIn"), Some(v)) => v.is_some_and(has),
                (Some("Exists"), Some(v)) => v.is_none(),
                (Some("DoesNotExist"), Some(v)) => v.is_some(),
                _ => false,
            };
            if out {
                return true;
            }
        }
        false
    }
}

/// The workloads whose pods a Service selects: same cluster and namespace, pod template labels
/// matching every pair of its `spec.selector`. A Service without a selector has none in the repo.
fn backends<'m>(b: &Builder<'m>, svc: &KubeObject) -> Vec<&'m KubeObject> {
    let Some(selector) = kube::get(&svc.body, &["spec", "selector"]).and_then(Value::as_object)
    else {
        return Vec::new();
    };
    if selector.is_empty() {
        return Vec::new();
    }
    b.model
        .objects
        .iter()
        .filter(|o| o.cluster == svc.cluster && o.key.namespace == svc.key.namespace)
        .filter(|o| {
            let Some(spec_path) = kube::pod_spec_path(&o.key.group, &o.key.kind) else {
                return false;
            };
            // The pod template is the parent of the pod spec: its labels sit beside it.
            let mut labels_path: Vec<&str> =
                spec_path[..spec_path.len().saturating_sub(1)].to_vec();
            labels_path.extend(["metadata", "labels"]);
            let Some(labels) = kube::get(&o.body, &labels_path).and_then(Value::as_object) else {
                return false;
            };
            selector.iter().all(|(k, v)| labels.get(k) == Some(v))
        })
        .collect()
}

/// `me` waits for Service `ns/name` and for the workloads behind it. `who` starts each reason
/// (`webhook x (failurePolicy Fail) calls`, `APIService y is served by`).
fn service_edges(
    b: &mut Builder,
    me: usize,
    cluster: Option<&str>,
    ns: &str,
    name: &str,
    who: &str,
) {
    let key = Builder::key("Service", "", Some(ns), name);
    let Some(svc_node) = b.object(cluster, &key) else {
        return;
    };
    b.edge(svc_node, me, format!("{who} Service {ns}/{name}"));
    let Some(svc) = b
        .model
        .objects
        .iter()
        .find(|o| o.cluster.as_deref() == cluster && o.key == key)
    else {
        return;
    };
    for w in backends(b, svc) {
        let n = b.objects[&(w.cluster.as_deref(), &w.key)];
        b.edge(
            n,
            me,
            format!(
                "{who} Service {ns}/{name}, whose pods {} {} runs (its pod labels match the Service's selector)",
                w.key.kind, w.key.name
            ),
        );
    }
}

/// The edges into a webhook configuration or an APIService: the Service it calls and that
/// Service's backends.
pub(super) fn serving_edges(b: &mut Builder, i: usize, me: usize) {
    let model = b.model;
    let o = &model.objects[i];
    let cluster = o.cluster.as_deref();
    if is_webhook_config(o) {
        for h in failing_hooks(o) {
            if let Some((ns, name)) = h.service {
                let who = format!("webhook {} (failurePolicy Fail) calls", h.name);
                service_edges(b, me, cluster, ns, name, &who);
            }
        }
    } else if o.key.group == "apiregistration.k8s.io" && o.key.kind == "APIService" {
        let svc = kube::get(&o.body, &["spec", "service"]).and_then(|s| {
            Some((
                kube::get_str(s, &["namespace"])?,
                kube::get_str(s, &["name"])?,
            ))
        });
        if let Some((ns, name)) = svc {
            let who = format!("APIService {} is served by", o.key.name);
            service_edges(b, me, cluster, ns, name, &who);
        }
    }
}

/// Everything `node` waits for, directly or not, in the edges built so far.
fn ancestors(b: &Builder, node: usize) -> BTreeSet<usize> {
    let mut into: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(from, to) in b.edges.keys() {
        into.entry(to).or_default().push(from);
    }
    let mut seen = BTreeSet::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        for &p in into.get(&n).into_iter().flatten() {
            if seen.insert(p) {
                stack.push(p);
            }
        }
    }
    seen
}

/// The edges out of each fail-closed webhook configuration to the objects it intercepts. Runs
/// after every other edge, so that what a configuration waits for is known and exempt.
pub(super) fn intercept_edges(b: &mut Builder) {
    let model = b.model;
    // Custom resources resolve through the repo's CRDs: (cluster, group, kind) -> (plural,
    // namespaced).
    let mut crds: HashMap<(Option<&str>, &str, &str), (&str, bool)> = HashMap::new();
    for c in model.objects.iter().filter(|c| {
        c.key.group == "apiextensions.k8s.io" && c.key.kind == "CustomResourceDefinition"
    }) {
        if let (Some(group), Some(kind), Some(plural)) = (
            kube::get_str(&c.body, &["spec", "group"]),
            kube::get_str(&c.body, &["spec", "names", "kind"]),
            kube::get_str(&c.body, &["spec", "names", "plural"]),
        ) {
            let namespaced = kube::get_str(&c.body, &["spec", "scope"]) != Some("Cluster");
            crds.insert((c.cluster.as_deref(), group, kind), (plural, namespaced));
        }
    }
    let resource = |o: &KubeObject| {
        let (_, version) = kube::split_api_version(&o.api_version);
        let (plural, namespaced) = match crds.get(&(
            o.cluster.as_deref(),
            o.key.group.as_str(),
            o.key.kind.as_str(),
        )) {
            Some((p, n)) => (p.to_string(), *n),
            None => (kube::plural(&o.key.kind), o.key.namespace.is_some()),
        };
        Resource {
            group: o.key.group.clone(),
            version: version.to_string(),
            plural,
            namespaced,
        }
    };
    let namespaces: HashMap<(Option<&str>, &str), &KubeObject> = model
        .objects
        .iter()
        .filter(|n| n.key.group.is_empty() && n.key.kind == "Namespace")
        .map(|n| ((n.cluster.as_deref(), n.key.name.as_str()), n))
        .collect();
    // The labels a namespaceSelector sees for an object: its namespace's (the Namespace's own for
    // a Namespace); `None` for cluster-wide objects, which namespaceSelector does not filter.
    let namespace_labels = |o: &KubeObject| -> Option<Labels> {
        let name = match (
            &o.key.namespace,
            o.key.group.is_empty() && o.key.kind == "Namespace",
        ) {
            (Some(ns), _) => ns.as_str(),
            (None, true) => o.key.name.as_str(),
            (None, false) => return None,
        };
        let mut labels = match namespaces.get(&(o.cluster.as_deref(), name)) {
            Some(ns) => Labels::of(&ns.body, true),
            None => Labels {
                known: BTreeMap::new(),
                complete: false,
                unknown: &[],
            },
        };
        labels
            .known
            .insert(NAMESPACE_NAME_LABEL.to_string(), name.to_string());
        Some(labels)
    };
    // The labels an objectSelector sees: Git's, plus the ownership label eksync adds; the source
    // label's value is the reader's, so it is unknown here.
    let object_labels = |o: &KubeObject| {
        let mut labels = Labels::of(&o.body, true);
        labels
            .known
            .insert(MANAGED_BY_LABEL.to_string(), MANAGED_BY_VALUE.to_string());
        labels.unknown = &[SOURCE_LABEL];
        labels
    };
    for (i, o) in model.objects.iter().enumerate() {
        if !is_webhook_config(o) {
            continue;
        }
        let hooks = failing_hooks(o);
        if hooks.iter().all(|h| h.rules.is_empty()) {
            continue;
        }
        // Indexing cannot fail: `add_nodes` gave every object of the model a node.
        let me = b.objects[&(o.cluster.as_deref(), &o.key)];
        let needs = ancestors(b, me);
        for (j, x) in model.objects.iter().enumerate() {
            if j == i || x.cluster != o.cluster || x.key.group == ADMISSION_GROUP {
                continue;
            }
            let xn = b.objects[&(x.cluster.as_deref(), &x.key)];
            if needs.contains(&xn) {
                continue;
            }
            let r = resource(x);
            let hit = hooks.iter().find_map(|h| {
                let ops = h
                    .rules
                    .iter()
                    .find_map(|rule| rule.intercepts(&r, h.exact))?;
                let ns_out =
                    namespace_labels(x).is_some_and(|l| l.excluded_by(h.namespace_selector));
                let obj_out = object_labels(x).excluded_by(h.object_selector);
                (!ns_out && !obj_out).then_some((h.name, ops))
            });
            if let Some((hook, ops)) = hit {
                let what = if r.group.is_empty() {
                    r.plural.clone()
                } else {
                    format!("{}.{}", r.plural, r.group)
                };
                b.edge(
                    me,
                    xn,
                    format!(
                        "webhook {hook} (failurePolicy Fail) of {} {} intercepts {ops} of {what}; the API server refuses them until it answers",
                        o.key.kind, o.key.name
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::{self, Analysis};
    use crate::load::{Source, SourceFile};

    fn analyze(docs: &[&str]) -> Analysis {
        let src = Source {
            files: vec![SourceFile {
                path: "repo.yaml".into(),
                bytes: docs.join("\n---\n").into_bytes(),
            }],
            skipped: Vec::new(),
        };
        analysis::analyze(&src)
    }

    /// The reason of the edge `from -> to` (node labels), if there is one.
    fn reason(a: &Analysis, from: &str, to: &str) -> Option<String> {
        let g = &a.graph;
        g.edges
            .iter()
            .find(|e| g.nodes[e.from].label() == from && g.nodes[e.to].label() == to)
            .map(|e| e.reason.clone())
    }

    fn wave(a: &Analysis, label: &str) -> usize {
        let n = a
            .graph
            .nodes
            .iter()
            .position(|n| n.label() == label)
            .unwrap_or_else(|| panic!("no node {label}"));
        a.order.wave_of[n]
    }

    const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hooks\n";
    const SA: &str =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: hook\n  namespace: hooks\n";
    const CERT: &str =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: hook-tls\n  namespace: hooks\n";
    const SVC: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: hook\n  namespace: hooks\nspec:\n  selector:\n    app: hook\n  ports:\n    - port: 443\n";
    const BACKEND: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hook\n  namespace: hooks\nspec:\n  selector:\n    matchLabels:\n      app: hook\n  template:\n    metadata:\n      labels:\n        app: hook\n    spec:\n      serviceAccountName: hook\n      containers:\n        - name: c\n          image: hook:1\n          volumeMounts: [{name: tls, mountPath: /tls}]\n      volumes:\n        - name: tls\n          secret:\n            secretName: hook-tls\n";
    const OTHER: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: other\n  namespace: hooks\nspec:\n  selector:\n    matchLabels:\n      app: other\n  template:\n    metadata:\n      labels:\n        app: other\n    spec:\n      containers:\n        - name: c\n          image: other:1\n";
    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names:\n    kind: Widget\n    plural: widgets\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n";
    const CR: &str =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: default\n";

    fn webhook(kind: &str, extra: &str, rules: &str) -> String {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: widgets\nwebhooks:\n  - name: widgets.example.com\n    admissionReviewVersions: [v1]\n    sideEffects: None\n    clientConfig:\n      service:\n        namespace: hooks\n        name: hook\n{extra}    rules:\n{rules}"
        )
    }

    const WIDGET_RULES: &str = "      - apiGroups: [example.com]\n        apiVersions: [v1]\n        resources: [widgets]\n        operations: [CREATE, UPDATE]\n";
    const ALL_RULES: &str = "      - apiGroups: [\"*\"]\n        apiVersions: [\"*\"]\n        resources: [\"*\"]\n        operations: [\"*\"]\n";

    const CFG: &str = "ValidatingWebhookConfiguration widgets";

    #[test]
    fn a_fail_closed_webhook_waits_for_its_backends_and_goes_before_what_it_intercepts() {
        let hook = webhook("ValidatingWebhookConfiguration", "", WIDGET_RULES);
        let a = analyze(&[NS, SA, CERT, SVC, BACKEND, OTHER, CRD, CR, &hook]);
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "Service hooks/hook",
                CFG,
                Some("webhook widgets.example.com (failurePolicy Fail) calls Service hooks/hook"),
            ),
            (
                "Deployment hooks/hook",
                CFG,
                Some("webhook widgets.example.com (failurePolicy Fail) calls Service hooks/hook, whose pods Deployment hook runs (its pod labels match the Service's selector)"),
            ),
            // Not selected by the Service.
            ("Deployment hooks/other", CFG, None),
            (
                CFG,
                "Widget default/w",
                Some("webhook widgets.example.com (failurePolicy Fail) of ValidatingWebhookConfiguration widgets intercepts CREATE/UPDATE of widgets.example.com; the API server refuses them until it answers"),
            ),
            // The rule names widgets only.
            (CFG, "Deployment hooks/other", None),
            (CFG, "CustomResourceDefinition widgets.example.com", None),
        ];
        for (from, to, want) in cases {
            assert_eq!(reason(&a, from, to).as_deref(), *want, "{from} -> {to}");
        }
        assert!(wave(&a, "Deployment hooks/hook") < wave(&a, CFG));
        assert!(wave(&a, CFG) < wave(&a, "Widget default/w"));
    }

    #[test]
    fn an_intercept_everything_webhook_exempts_what_it_needs_to_run() {
        let hook = webhook("MutatingWebhookConfiguration", "", ALL_RULES);
        let a = analyze(&[NS, SA, CERT, SVC, BACKEND, OTHER, CRD, CR, &hook]);
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        let cfg = "MutatingWebhookConfiguration widgets";
        // What it needs: never after it (that would be a cycle).
        for needed in [
            "Namespace hooks",
            "ServiceAccount hooks/hook",
            "Secret hooks/hook-tls",
            "Service hooks/hook",
            "Deployment hooks/hook",
        ] {
            assert_eq!(reason(&a, cfg, needed), None, "{needed}");
            assert!(wave(&a, needed) < wave(&a, cfg), "{needed}");
        }
        // Everything else waits, with the resource it is intercepted as.
        for (to, what) in [
            ("Deployment hooks/other", "deployments.apps"),
            (
                "CustomResourceDefinition widgets.example.com",
                "customresourcedefinitions.apiextensions.k8s.io",
            ),
            ("Widget default/w", "widgets.example.com"),
        ] {
            let r = reason(&a, cfg, to).unwrap_or_default();
            assert!(r.contains(&format!("intercepts * of {what};")), "{to}: {r}");
            assert!(wave(&a, cfg) < wave(&a, to), "{to}");
        }
    }

    #[test]
    fn policies_scopes_and_selectors_decide_what_is_intercepted() {
        let labelled_ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  labels:\n    webhooks: skip\n";
        let cm = |ns: &str, labels: &str| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: {ns}\n{labels}")
        };
        let cm_rules = "      - apiGroups: [\"\"]\n        apiVersions: [v1]\n        resources: [configmaps]\n        operations: [CREATE]\n";
        let cases: Vec<(&str, String, String, bool)> = vec![
            ("Fail by default", String::new(), cm("default", ""), true),
            ("Ignore", "    failurePolicy: Ignore\n".into(), cm("default", ""), false),
            ("explicit Fail", "    failurePolicy: Fail\n".into(), cm("default", ""), true),
            (
                "namespace excluded by name",
                "    namespaceSelector:\n      matchExpressions:\n        - {key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}\n".into(),
                cm("kube-system", ""),
                false,
            ),
            (
                "namespace outside the repo: its labels are unknown",
                "    namespaceSelector:\n      matchLabels:\n        webhooks: enabled\n".into(),
                cm("default", ""),
                true,
            ),
            (
                "namespace in the repo labelled out",
                "    namespaceSelector:\n      matchExpressions:\n        - {key: webhooks, operator: NotIn, values: [skip]}\n".into(),
                cm("apps", ""),
                false,
            ),
            (
                "namespace in the repo without the required label",
                "    namespaceSelector:\n      matchLabels:\n        webhooks: enabled\n".into(),
                cm("apps", ""),
                false,
            ),
            (
                "object labelled out",
                "    objectSelector:\n      matchExpressions:\n        - {key: skip-webhook, operator: DoesNotExist}\n".into(),
                cm("default", "  labels:\n    skip-webhook: \"true\"\n"),
                false,
            ),
            (
                "object selected by eksync's ownership label",
                "    objectSelector:\n      matchLabels:\n        app.kubernetes.io/managed-by: eksync\n".into(),
                cm("default", ""),
                true,
            ),
            (
                "object selector on the source label is unknown offline",
                "    objectSelector:\n      matchLabels:\n        eksync.io/source: elsewhere\n".into(),
                cm("default", ""),
                true,
            ),
            (
                "Exact match policy, same version",
                "    matchPolicy: Exact\n".into(),
                cm("default", ""),
                true,
            ),
        ];
        for (name, extra, object, intercepted) in cases {
            let hook = webhook("ValidatingWebhookConfiguration", &extra, cm_rules);
            let a = analyze(&[NS, SA, CERT, SVC, BACKEND, labelled_ns, &object, &hook]);
            assert!(!a.has_errors(), "{name}: {:#?}", a.diagnostics);
            let ns = object
                .lines()
                .find_map(|l| l.strip_prefix("  namespace: "))
                .unwrap_or_default();
            let to = format!("ConfigMap {ns}/cm");
            assert_eq!(reason(&a, CFG, &to).is_some(), intercepted, "{name}");
        }
        // Scope and resource: a Cluster-scoped rule, a subresource, a DELETE-only rule.
        for (name, rules) in [
            ("cluster scope", "      - apiGroups: [\"\"]\n        apiVersions: [v1]\n        resources: [configmaps]\n        operations: [CREATE]\n        scope: Cluster\n"),
            ("subresource", "      - apiGroups: [\"\"]\n        apiVersions: [v1]\n        resources: [configmaps/status]\n        operations: [CREATE]\n"),
            ("delete only", "      - apiGroups: [\"\"]\n        apiVersions: [v1]\n        resources: [configmaps]\n        operations: [DELETE]\n"),
            ("exact version", "      - apiGroups: [\"\"]\n        apiVersions: [v2]\n        resources: [configmaps]\n        operations: [CREATE]\n"),
        ] {
            let extra = if name == "exact version" { "    matchPolicy: Exact\n" } else { "" };
            let hook = webhook("ValidatingWebhookConfiguration", extra, rules);
            let a = analyze(&[NS, SA, CERT, SVC, BACKEND, &cm("default", ""), &hook]);
            assert!(!a.has_errors(), "{name}: {:#?}", a.diagnostics);
            assert_eq!(reason(&a, CFG, "ConfigMap default/cm"), None, "{name}");
        }
    }

    #[test]
    fn a_url_webhook_waits_for_nothing_but_still_goes_first() {
        let hook = webhook("ValidatingWebhookConfiguration", "", WIDGET_RULES).replace(
            "      service:\n        namespace: hooks\n        name: hook\n",
            "      url: https://hooks.example.com/validate\n",
        );
        let a = analyze(&[NS, SA, CERT, SVC, BACKEND, CRD, CR, &hook]);
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        assert_eq!(reason(&a, "Service hooks/hook", CFG), None);
        assert_eq!(reason(&a, "Deployment hooks/hook", CFG), None);
        assert!(reason(&a, CFG, "Widget default/w").is_some());
    }

    #[test]
    fn two_webhooks_intercepting_each_others_backends_make_no_cycle() {
        let second = |s: &str| {
            s.replace("name: hook\n", "name: hook2\n")
                .replace("app: hook", "app: hook2")
                .replace("name: widgets\n", "name: widgets2\n")
        };
        let one = webhook("ValidatingWebhookConfiguration", "", ALL_RULES);
        let two = second(&one);
        let (svc2, backend2) = (second(SVC), second(BACKEND));
        let a = analyze(&[NS, SA, CERT, SVC, BACKEND, &svc2, &backend2, &one, &two]);
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        assert_eq!(a.order.wave_of.len(), a.graph.nodes.len());
    }

    #[test]
    fn depends_on_still_orders_next_to_webhook_edges() {
        let hook = webhook("ValidatingWebhookConfiguration", "", WIDGET_RULES);
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n  namespace: default\n  annotations:\n    eksync.io/depends-on: Widget.example.com/default/w\n";
        let a = analyze(&[NS, SA, CERT, SVC, BACKEND, CRD, CR, &hook, cm]);
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        assert_eq!(
            reason(&a, "Widget default/w", "ConfigMap default/after").as_deref(),
            Some("eksync.io/depends-on names Widget.example.com/default/w")
        );
        assert!(wave(&a, CFG) < wave(&a, "Widget default/w"));
        assert!(wave(&a, "Widget default/w") < wave(&a, "ConfigMap default/after"));
    }

    #[test]
    fn an_apiservice_waits_for_its_service_and_backends() {
        let api = "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: v1beta1.metrics.k8s.io\nspec:\n  group: metrics.k8s.io\n  version: v1beta1\n  groupPriorityMinimum: 100\n  versionPriority: 100\n  service:\n    namespace: hooks\n    name: hook\n";
        let a = analyze(&[NS, SA, CERT, SVC, BACKEND, OTHER, api]);
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        let to = "APIService v1beta1.metrics.k8s.io";
        assert_eq!(
            reason(&a, "Service hooks/hook", to).as_deref(),
            Some("APIService v1beta1.metrics.k8s.io is served by Service hooks/hook")
        );
        assert_eq!(
            reason(&a, "Deployment hooks/hook", to).as_deref(),
            Some("APIService v1beta1.metrics.k8s.io is served by Service hooks/hook, whose pods Deployment hook runs (its pod labels match the Service's selector)")
        );
        assert_eq!(reason(&a, "Deployment hooks/other", to), None);
    }

    #[test]
    fn a_statefulsets_claim_templates_wait_for_their_storage_class() {
        let sc = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: fast\nprovisioner: ebs.csi.aws.com\n";
        let sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: default\nspec:\n  serviceName: db\n  selector:\n    matchLabels: {app: db}\n  template:\n    metadata:\n      labels: {app: db}\n    spec:\n      containers: [{name: c, image: db:1}]\n  volumeClaimTemplates:\n    - metadata:\n        name: logs\n      spec:\n        accessModes: [ReadWriteOnce]\n        resources: {requests: {storage: 1Gi}}\n    - metadata:\n        name: data\n      spec:\n        storageClassName: fast\n        accessModes: [ReadWriteOnce]\n        resources: {requests: {storage: 1Gi}}\n";
        let a = analyze(&[sc, sts]);
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        assert_eq!(
            reason(&a, "StorageClass fast", "StatefulSet default/db").as_deref(),
            Some("StatefulSet db's volumeClaimTemplates[1] (data) uses StorageClass fast")
        );
    }
}
