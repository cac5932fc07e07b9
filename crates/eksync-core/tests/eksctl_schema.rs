//! eksctl compatibility, checked against eksctl's own files (read-only, in `../shared/eksctl`): its
//! 49 example configs and the JSON schema of `ClusterConfig` v1alpha5 (eksctl 0.231).
//!
//! - every example loads with no unknown-field error, and the two that are themselves invalid get an
//!   error that says why;
//! - every leaf field path of the schema, set on a valid config, loads and either draws a warning
//!   that names it (or the ignored object holding it) or changes the rendered stacks or EKS API
//!   objects (Fargate profiles); and a warning never names a field that does change them;
//! - a typo planted under each object of the schema is an error at its path and line;
//! - two typos in one document are two errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use eksync_core::analysis;
use eksync_core::diag::{Diagnostic, Severity};
use eksync_core::load::{self, Source, SourceFile};
use eksync_core::render;
use serde_json::{json, Map, Value};

fn shared() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/eksctl"
    ))
    .to_path_buf()
}

fn source(path: &str, text: &str) -> Source {
    Source {
        files: vec![SourceFile {
            path: path.to_string(),
            bytes: text.as_bytes().to_vec(),
        }],
        ..Source::default()
    }
}

fn errors(diags: &[Diagnostic]) -> Vec<&Diagnostic> {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

fn field(d: &Diagnostic) -> &str {
    d.location
        .as_ref()
        .and_then(|l| l.field.as_deref())
        .unwrap_or("")
}

fn line(d: &Diagnostic) -> Option<usize> {
    d.location.as_ref().and_then(|l| l.line)
}

#[test]
fn every_eksctl_example_loads_without_unknown_fields() {
    let dir = shared().join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 49, "eksctl's examples");
    let mut unknown = Vec::new();
    let mut summary = BTreeMap::new();
    for f in &files {
        let name = f
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(f).expect("read example");
        let a = analysis::analyze(&source(&name, &text));
        for d in errors(&a.diagnostics) {
            if d.code == "E-unknown-field" {
                unknown.push(format!("{name}: {} ({})", d.message, field(d)));
            }
        }
        let codes: Vec<&str> = errors(&a.diagnostics).iter().map(|d| d.code).collect();
        summary.insert(name.clone(), codes);
        if name.starts_with("17-") {
            assert!(
                a.diagnostics.iter().any(|d| d.code == "E-arn"
                    && field(d) == "iam.serviceRolePermissionsBoundary"
                    && d.message
                        .contains("arn:aws:iam:11111:policy/entity/boundary")),
                "{name}: the malformed ARN is not reported: {:#?}",
                a.diagnostics
            );
        }
        if name.starts_with("15-") {
            assert!(
                a.diagnostics.iter().any(|d| d.code == "E-ami"
                    && field(d) == "managedNodeGroups[2].ami"
                    && d.message.contains("ami-custom")),
                "{name}: the AMI placeholder is not reported: {:#?}",
                a.diagnostics
            );
        }
    }
    let clean = summary.values().filter(|c| c.is_empty()).count();
    let unknown_files: std::collections::BTreeSet<&str> = unknown
        .iter()
        .filter_map(|u: &String| u.split(':').next())
        .collect();
    println!(
        "{} examples, {} with no unknown-field error, {clean} with no error at all",
        files.len(),
        summary.len() - unknown_files.len()
    );
    for (name, codes) in &summary {
        println!("  {name}: {codes:?}");
    }
    assert!(
        unknown.is_empty(),
        "unknown fields:\n{}",
        unknown.join("\n")
    );
}

// ---- the schema -------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    /// The first element of a list.
    Elem,
}

fn path_text(steps: &[Step]) -> String {
    let mut s = String::new();
    for st in steps {
        match st {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Elem => s.push_str("[0]"),
        }
    }
    s
}

struct Schema {
    defs: Map<String, Value>,
}

/// A leaf field: its path and the values to try, in order.
struct Leaf {
    path: Vec<Step>,
    values: Vec<Value>,
}

impl Schema {
    fn load() -> Schema {
        let text = std::fs::read_to_string(shared().join("schema.json")).expect("schema.json");
        let v: Value = serde_json::from_str(&text).expect("schema is JSON");
        let defs = v["definitions"].as_object().expect("definitions").clone();
        Schema { defs }
    }

    /// Follows `$ref`s; merges the properties of `oneOf` variants (IdentityProvider).
    fn resolve(&self, node: &Value) -> Value {
        let mut node = node.clone();
        while let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let name = r.trim_start_matches("#/definitions/");
            node = self.defs[name].clone();
        }
        if let Some(variants) = node.get("oneOf").and_then(Value::as_array).cloned() {
            for v in variants {
                let v = self.resolve(&v);
                if let Some(p) = v.get("properties").and_then(Value::as_object) {
                    let props = node["properties"].as_object_mut().expect("properties");
                    for (k, x) in p {
                        props.entry(k.clone()).or_insert(x.clone());
                    }
                }
            }
        }
        node
    }

    fn is_object(node: &Value) -> bool {
        node.get("properties").is_some()
    }

    /// Every leaf path and every object path under `node`.
    fn walk(
        &self,
        node: &Value,
        path: Vec<Step>,
        leaves: &mut Vec<Leaf>,
        objects: &mut Vec<Vec<Step>>,
    ) {
        assert!(path.len() < 20, "schema too deep at {}", path_text(&path));
        let node = self.resolve(node);
        if Self::is_object(&node) {
            objects.push(path.clone());
            let props = node["properties"].as_object().expect("properties");
            for (k, p) in props {
                let mut sub = path.clone();
                sub.push(Step::Key(k.clone()));
                self.walk(p, sub, leaves, objects);
            }
            return;
        }
        let name = match path.last() {
            Some(Step::Key(k)) => k.clone(),
            _ => String::new(),
        };
        if node.get("type") == Some(&json!("array")) {
            let items = self.resolve(&node["items"]);
            if Self::is_object(&items) {
                let mut sub = path.clone();
                sub.push(Step::Elem);
                self.walk(&items, sub, leaves, objects);
            } else {
                let values = scalar_values(&name, &items)
                    .into_iter()
                    .map(|v| json!([v]))
                    .collect();
                leaves.push(Leaf { path, values });
            }
            return;
        }
        if let Some(ap) = node.get("additionalProperties") {
            let ap = self.resolve(ap);
            if Self::is_object(&ap) {
                // Subnets by name: the base config's own name, so that the rest stays valid.
                let mut sub = path.clone();
                sub.push(Step::Key("us-west-2b".into()));
                self.walk(&ap, sub, leaves, objects);
                return;
            }
            let values = if ap.get("type") == Some(&json!("string")) {
                vec![json!({"example.com/test": "value"})]
            } else {
                vec![
                    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}),
                ]
            };
            leaves.push(Leaf { path, values });
            return;
        }
        let values = scalar_values(&name, &node);
        leaves.push(Leaf { path, values });
    }
}

/// Values of the field's type to try, each meant to be valid where eksync checks the value.
fn scalar_values(name: &str, node: &Value) -> Vec<Value> {
    if let Some(e) = node.get("enum").and_then(Value::as_array) {
        return e.clone();
    }
    match node.get("type").and_then(Value::as_str) {
        Some("boolean") => vec![json!(true), json!(false)],
        Some("integer") => vec![json!(3), json!(1)],
        Some("number") => vec![json!(0.5)],
        _ => {
            let lower = name.to_lowercase();
            let s = if lower.contains("arn") || lower.contains("boundary") {
                "arn:aws:iam::123456789012:policy/eksync-test"
            } else if lower == "ami" {
                "ami-0123456789abcdef0"
            } else if lower == "version" {
                "1.32"
            } else if lower == "region" {
                "us-east-1"
            } else if lower.contains("cidr") {
                "10.9.0.0/16"
            } else if lower == "subnets" {
                "subnet-0123456789abcdef9"
            } else if lower.contains("zones") {
                "us-west-2b"
            } else if lower == "az" {
                // Moves subnet us-west-2b into the zone the base's node group runs in.
                "us-west-2a"
            } else if lower == "effect" {
                "NoExecute"
            } else if lower.contains("instancetype") {
                "m5.xlarge"
            } else if lower == "authenticationmode" {
                "API"
            } else {
                "eksync-test"
            };
            vec![json!(s)]
        }
    }
}

/// A valid config that renders: an existing VPC with private and public subnets, one unmanaged
/// and one managed node group.
fn base() -> Value {
    json!({
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": {"name": "schema-test", "region": "us-west-2", "version": "1.33"},
        "vpc": {
            "id": "vpc-0123456789abcdef0",
            "subnets": {
                "private": {
                    "us-west-2a": {"id": "subnet-0aaaaaaaaaaaaaaa1"},
                    "us-west-2b": {"id": "subnet-0bbbbbbbbbbbbbbb2"}
                },
                "public": {
                    "us-west-2a": {"id": "subnet-0ccccccccccccccc3"},
                    "us-west-2b": {"id": "subnet-0ddddddddddddddd4"}
                }
            }
        },
        "nodeGroups": [{
            "name": "ng",
            "instanceType": "m5.large",
            "desiredCapacity": 2, "minSize": 1, "maxSize": 5,
            "availabilityZones": ["us-west-2a"],
            "taints": [{"key": "dedicated", "value": "ci", "effect": "NoSchedule"}]
        }],
        "managedNodeGroups": [{
            "name": "mng",
            "instanceType": "m5.large",
            "desiredCapacity": 2, "minSize": 1, "maxSize": 5,
            "privateNetworking": true,
            "availabilityZones": ["us-west-2a"],
            "taints": [{"key": "dedicated", "value": "ci", "effect": "NoSchedule"}]
        }]
    })
}

/// What a new object or list element must hold before a field can be set in it (what eksync's
/// typed model or renderer requires).
fn seed(path: &[Step]) -> Value {
    match path_text(path).as_str() {
        "iam.serviceAccounts" => json!({"metadata": {"name": "sa"}}),
        "nodeGroups" => json!({"name": "ng2"}),
        "managedNodeGroups" => json!({"name": "mng2"}),
        // An access entry needs a principal; a policy an EKS access policy and a scope.
        "accessConfig.accessEntries" => {
            json!({"principalARN": "arn:aws:iam::123456789012:role/seed"})
        }
        "accessConfig.accessEntries[0].accessPolicies" => json!({
            "policyARN": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            "accessScope": {"type": "cluster"}
        }),
        "nodeGroups[0].instancesDistribution" => {
            json!({"instanceTypes": ["m5.large", "m5a.large"]})
        }
        _ => json!({}),
    }
}

/// The base config with the VPC left to eksctl (no `vpc.id`, no `vpc.subnets`): the cluster stack
/// creates it.
fn base_created_vpc() -> Value {
    let mut doc = base();
    doc.as_object_mut().expect("object").remove("vpc");
    doc
}

/// The base config with SSH allowed on both node groups, through an EC2 key pair.
fn base_with_ssh() -> Value {
    let mut doc = base();
    // The private group's SSH comes from the VPC's CIDR.
    doc["vpc"]["cidr"] = json!("192.168.0.0/16");
    for kind in ["nodeGroups", "managedNodeGroups"] {
        doc[kind][0]["ssh"] = json!({"allow": true, "publicKeyName": "eksync-test"});
    }
    doc
}

/// The base config with the cluster's OIDC provider and one IRSA service account, so that each
/// field of an entry is judged by the role stack it renders (without `withOIDC` the entry is
/// refused as a whole, which would name every field under it).
fn base_with_irsa() -> Value {
    let mut doc = base();
    doc["iam"] = json!({
        "withOIDC": true,
        "serviceAccounts": [{
            "metadata": {"name": "sa", "namespace": "apps"},
            "attachPolicyARNs": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        }]
    });
    doc
}

/// The base config with one Fargate profile, so that the role fields of `iam` (used only with
/// profiles) and each field of a profile are judged by what the profile renders to.
fn base_with_fargate() -> Value {
    let mut doc = base();
    doc["fargateProfiles"] = json!([{"name": "fp", "selectors": [{"namespace": "default"}]}]);
    doc
}

/// Fields that act only in a context the base config lacks, with a base that has it: the VPC's
/// shape only matters when the cluster stack creates the VPC (with an existing `vpc.id` eksctl
/// only checks it against the VPC), SSH sources only when SSH is allowed, Bottlerocket settings
/// only on Bottlerocket nodes.
fn context_base(path: &str) -> Option<Value> {
    if path.starts_with("iam.serviceAccounts") {
        return Some(base_with_irsa());
    }
    if path.starts_with("fargateProfiles") || path.starts_with("iam.fargatePodExecutionRole") {
        return Some(base_with_fargate());
    }
    if path.starts_with("iam.podIdentityAssociations") {
        let mut doc = base();
        doc["iam"] = json!({"podIdentityAssociations": [{
            "namespace": "default",
            "serviceAccountName": "s3-reader",
            "roleARN": "arn:aws:iam::111122223333:role/role-1"
        }]});
        return Some(doc);
    }
    if path.starts_with("addons[0]") {
        let mut doc = base();
        doc["addons"] = json!([{"name": "vpc-cni"}]);
        return Some(doc);
    }
    match path {
        "vpc.cidr" | "availabilityZones" => Some(base_created_vpc()),
        "nodeGroups[0].ssh.sourceSecurityGroupIds"
        | "managedNodeGroups[0].ssh.sourceSecurityGroupIds" => Some(base_with_ssh()),
        // A user's launch template decides the instance type.
        "managedNodeGroups[0].launchTemplate.id"
        | "managedNodeGroups[0].launchTemplate.version" => {
            let mut doc = base();
            let mng = doc["managedNodeGroups"][0].as_object_mut().expect("object");
            mng.remove("instanceType");
            mng.insert(
                "launchTemplate".into(),
                json!({"id": "lt-0123456789abcdef0"}),
            );
            Some(doc)
        }
        "nodeGroups[0].bottlerocket.enableAdminContainer"
        | "nodeGroups[0].bottlerocket.settings" => {
            let mut doc = base();
            doc["nodeGroups"][0]["amiFamily"] = json!("Bottlerocket");
            Some(doc)
        }
        _ => None,
    }
}

/// Fields eksync acts on outside the templates, with where.
const USED_OUTSIDE_TEMPLATES: &[(&str, &str)] = &[
    (
        "metadata.region",
        "the region the stacks are deployed to and `{{aws:region}}` resolves to (templates use AWS::Region)",
    ),
    (
        "iam.serviceAccounts[0].metadata.labels",
        "labels of the ServiceAccount object eksync adds to the graph (load::irsa)",
    ),
    (
        "iam.serviceAccounts[0].metadata.annotations",
        "annotations of the ServiceAccount object eksync adds to the graph (load::irsa)",
    ),
    (
        "iam.serviceAccounts[0].roleOnly",
        "whether the ServiceAccount object is added to the graph (load::irsa)",
    ),
];

/// `doc` with `value` at `path`, creating what is missing on the way.
fn set(doc: &Value, path: &[Step], value: Value) -> Value {
    let mut doc = doc.clone();
    let mut cur = &mut doc;
    for (i, st) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match st {
            Step::Key(k) => {
                if !cur.is_object() {
                    *cur = json!({});
                }
                let m = cur.as_object_mut().expect("object");
                if last {
                    m.insert(k.clone(), value);
                    return doc;
                }
                cur = m.entry(k.clone()).or_insert_with(|| seed(&path[..=i]));
            }
            Step::Elem => {
                if cur.as_array().is_none_or(|a| a.is_empty()) {
                    *cur = json!([seed(&path[..i])]);
                }
                let a = cur.as_array_mut().expect("array");
                if last {
                    a[0] = value;
                    return doc;
                }
                cur = &mut a[0];
            }
        }
    }
    value
}

/// The stacks and the EKS API objects (Fargate profiles) a config renders to.
type Rendered = (
    Vec<render::RenderedStack>,
    Vec<eksync_core::awsdiff::DesiredEksObject>,
);

struct Outcome {
    diagnostics: Vec<Diagnostic>,
    rendered: Option<Result<Rendered, render::RenderError>>,
}

fn load_value(doc: &Value) -> Outcome {
    let text = serde_json::to_string_pretty(doc).expect("JSON");
    let loaded = load::load(&source("cluster.json", &text));
    let rendered =
        loaded.model.clusters.first().map(|c| {
            render::render_cluster(&c.config).map(|s| (s, render::eks_objects(&c.config)))
        });
    Outcome {
        diagnostics: loaded.diagnostics,
        rendered,
    }
}

/// Whether `outer` is `inner` or an object or list holding it.
fn holds(outer: &str, inner: &str) -> bool {
    inner == outer
        || inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// Whether the warning's field is `path`, an ignored object holding it, or an entry of the map at
/// `path` (annotations are warned about one by one).
fn names(warned: &str, path: &str) -> bool {
    holds(warned, path) || holds(path, warned)
}

#[test]
fn every_schema_field_takes_effect_or_is_warned_about() {
    let schema = Schema::load();
    let root = json!({"$ref": "#/definitions/ClusterConfig"});
    let (mut leaves, mut objects) = (Vec::new(), Vec::new());
    schema.walk(&root, Vec::new(), &mut leaves, &mut objects);
    let base_doc = base();
    let base = load_value(&base_doc);
    assert!(
        errors(&base.diagnostics).is_empty() && base.diagnostics.is_empty(),
        "the base config must load cleanly: {:#?}",
        base.diagnostics
    );
    let base_rendered = base.rendered.clone().expect("a cluster");
    assert!(base_rendered.is_ok(), "the base renders: {base_rendered:?}");
    let mut problems = Vec::new();
    let mut checked = 0;
    let (mut by_warning, mut by_output) = (0, 0);
    for leaf in &leaves {
        let p = path_text(&leaf.path);
        // The document's identity: eksync reads only these values of them.
        if p == "apiVersion" || p == "kind" {
            continue;
        }
        if let Some((_, why)) = USED_OUTSIDE_TEMPLATES.iter().find(|(f, _)| *f == p) {
            println!("  {p}: used outside the templates: {why}");
            continue;
        }
        checked += 1;
        let context = context_base(&p).map(|doc| {
            let out = load_value(&doc);
            assert!(
                errors(&out.diagnostics).is_empty(),
                "{p}: the context's base must load cleanly: {:#?}",
                out.diagnostics
            );
            let rendered = out.rendered.expect("a cluster");
            assert!(
                rendered.is_ok(),
                "{p}: the context's base renders: {rendered:?}"
            );
            (doc, rendered)
        });
        let (base_doc, base_rendered) = match &context {
            Some((doc, rendered)) => (doc, rendered),
            None => (&base_doc, &base_rendered),
        };
        let mut verdict = None;
        for v in &leaf.values {
            let doc = set(base_doc, &leaf.path, v.clone());
            let out = load_value(&doc);
            let unknown: Vec<_> = out
                .diagnostics
                .iter()
                .filter(|d| d.code == "E-unknown-field")
                .map(|d| d.message.clone())
                .collect();
            if !unknown.is_empty() {
                problems.push(format!("{p}: unknown-field error: {unknown:?}"));
                verdict = Some("bad");
                break;
            }
            let warned = out
                .diagnostics
                .iter()
                .any(|d| d.code == "W-eksctl-unrendered" && names(field(d), &p));
            let differs = match &out.rendered {
                None => {
                    problems.push(format!(
                        "{p} = {v}: the cluster did not load: {:?}",
                        errors(&out.diagnostics)
                            .iter()
                            .map(|d| format!("{} {}", d.code, d.message))
                            .collect::<Vec<_>>()
                    ));
                    verdict = Some("bad");
                    break;
                }
                // A refusal naming the field is the field taking effect.
                Some(Err(e)) => {
                    let msg = e.to_string();
                    if !names(msg.split(':').next().unwrap_or(""), &p)
                        && !msg.starts_with(&format!("{p}:"))
                    {
                        problems.push(format!("{p} = {v}: render refused elsewhere: {msg}"));
                        verdict = Some("bad");
                        break;
                    }
                    true
                }
                Some(Ok(stacks)) => Some(stacks) != base_rendered.as_ref().ok(),
            };
            if warned && differs {
                problems.push(format!(
                    "{p} = {v}: warned as ignored but changes the rendered stacks"
                ));
                verdict = Some("bad");
                break;
            }
            if warned {
                verdict = Some("warned");
                break;
            }
            if differs {
                verdict = Some("rendered");
                break;
            }
        }
        match verdict {
            Some("warned") => by_warning += 1,
            Some("rendered") => by_output += 1,
            Some(_) => {}
            None => problems.push(format!(
                "{p}: neither warned about nor changes the rendered stacks (tried {:?})",
                leaf.values
            )),
        }
    }
    println!(
        "schema: {} leaf paths ({checked} checked: {by_output} change the rendered stacks, {by_warning} draw a warning), {} objects",
        leaves.len(),
        objects.len()
    );
    assert!(checked >= 400, "only {checked} paths");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn a_typo_under_every_schema_object_is_an_error_at_its_path_and_line() {
    let schema = Schema::load();
    let root = json!({"$ref": "#/definitions/ClusterConfig"});
    let (mut leaves, mut objects) = (Vec::new(), Vec::new());
    schema.walk(&root, Vec::new(), &mut leaves, &mut objects);
    let base_doc = base();
    let mut problems = Vec::new();
    for obj in &objects {
        // A near miss of the object's first field: the error should suggest the field.
        let node = schema.resolve(&{
            // The object's own schema, found again from the root.
            let mut n = root.clone();
            for st in obj {
                n = schema.resolve(&n);
                n = match st {
                    Step::Key(k) => match n["properties"].get(k) {
                        Some(x) => x.clone(),
                        None => n["additionalProperties"].clone(),
                    },
                    Step::Elem => n["items"].clone(),
                };
            }
            n
        });
        let props = node["properties"].as_object().expect("object");
        let first = props.keys().next().expect("a field").clone();
        let typo = format!("{first}x");
        assert!(!props.contains_key(&typo));
        let mut path = obj.clone();
        path.push(Step::Key(typo.clone()));
        let doc = set(&base_doc, &path, json!(1));
        let out = load_value(&doc);
        let want = path_text(&path);
        let hit = out.diagnostics.iter().find(|d| {
            d.code == "E-unknown-field" && d.severity == Severity::Error && field(d) == want
        });
        match hit {
            None => problems.push(format!(
                "{want}: no unknown-field error; got {:?}",
                out.diagnostics
                    .iter()
                    .map(|d| format!("{} {} at {}", d.code, d.message, field(d)))
                    .collect::<Vec<_>>()
            )),
            Some(d) => {
                if line(d).is_none() {
                    problems.push(format!("{want}: the error names no line"));
                }
                if !d.message.contains(&format!("unknown field `{typo}`")) {
                    problems.push(format!("{want}: message {:?}", d.message));
                }
                if !d
                    .help
                    .as_deref()
                    .is_some_and(|h| h.contains(&format!("did you mean `{first}`")))
                {
                    problems.push(format!("{want}: no suggestion of `{first}`: {:?}", d.help));
                }
            }
        }
    }
    println!("typos planted under {} schema objects", objects.len());
    assert!(objects.len() > 80, "only {} objects", objects.len());
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn two_typos_are_two_errors_and_other_problems_are_still_reported() {
    let text = "\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: two-typos
  region: us-west-2
vpc:
  id: vpc-0123456789abcdef0
  nat:
    gatway: Single
  subnets:
    private:
      us-west-2a: { id: subnet-0aaaaaaaaaaaaaaa1 }
managedNodeGroups:
  - name: mng
    updateConfig:
      maxUnavailabel: 1
    minSize: 3
    maxSize: 1
";
    let loaded = load::load(&source("cluster.yaml", text));
    let errs: Vec<(&str, &str, Option<usize>)> = errors(&loaded.diagnostics)
        .iter()
        .map(|d| (d.code, field(d), line(d)))
        .collect();
    assert_eq!(
        errs,
        vec![
            ("E-unknown-field", "vpc.nat.gatway", Some(9)),
            (
                "E-unknown-field",
                "managedNodeGroups[0].updateConfig.maxUnavailabel",
                Some(16)
            ),
            ("E-size", "managedNodeGroups[0].minSize", Some(17)),
        ],
        "{:#?}",
        loaded.diagnostics
    );
    let help: Vec<Option<&str>> = errors(&loaded.diagnostics)
        .iter()
        .take(2)
        .map(|d| d.help.as_deref())
        .collect();
    assert_eq!(
        help,
        vec![
            Some("did you mean `gateway`?"),
            Some("did you mean `maxUnavailable`?")
        ]
    );
}

#[test]
fn every_field_of_the_wrong_type_is_reported_once() {
    let text = "\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: { not: a-string }
  region: us-west-2
nodeGroups:
  - name: ng
    minSize: three
    availabilityZones: [us-west-2a, 5]
managedNodeGroups:
  - name: mng
    volumeSize: big
";
    let loaded = load::load(&source("cluster.yaml", text));
    let errs: Vec<(&str, &str, Option<usize>)> = errors(&loaded.diagnostics)
        .iter()
        .map(|d| (d.code, field(d), line(d)))
        .collect();
    assert_eq!(
        errs,
        vec![
            ("E-invalid-field", "metadata.name", Some(4)),
            ("E-invalid-field", "nodeGroups[0].minSize", Some(8)),
            (
                "E-invalid-field",
                "nodeGroups[0].availabilityZones[1]",
                Some(9)
            ),
            (
                "E-invalid-field",
                "managedNodeGroups[0].volumeSize",
                Some(12)
            ),
        ],
        "{:#?}",
        loaded.diagnostics
    );
}

/// Examples that are themselves invalid (a placeholder or malformed value), with the error code
/// that says so; their other errors are not checked here.
const INVALID_EXAMPLES: &[(&str, &str)] = &[("15-", "E-ami"), ("17-", "E-arn"), ("31-", "E-ami")];

/// Examples eksync refuses, with each refusal: the field and words of the reason. Every error of
/// these files must be one of these (`E-render`), and every one must be reported (rendering
/// collects all refusals of a config rather than stopping at the first).
const REFUSED_EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "24-",
        &[
            (
                "vpc.subnets.private.private-one.id",
                "does not look subnets up",
            ),
            ("nodeGroups[1].subnets[0]", "private-one"),
        ],
    ),
    ("35-outposts", &[("outpost", "AWS Outposts")]),
    ("36-", &[("outpost", "AWS Outposts")]),
    (
        "37-",
        &[
            ("outpost", "AWS Outposts"),
            ("privateCluster.enabled", "fully private cluster"),
        ],
    ),
];

/// Example 07's keys: an EC2 key pair is installed; a key eksctl would import (a local file, the
/// default `~/.ssh/id_rsa.pub`, or `publicKey` text) is not, and each such group is warned about at
/// the field that names the key.
#[test]
fn ssh_keys_eksync_cannot_install_are_warned_about_at_their_field() {
    let path = shared().join("examples/07-ssh-keys.yaml");
    let text = std::fs::read_to_string(&path).expect("example 07");
    let loaded = load::load(&source("cluster/cluster.yaml", &text));
    assert!(
        errors(&loaded.diagnostics).is_empty(),
        "{:#?}",
        loaded.diagnostics
    );
    let warned: Vec<&str> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.code == "W-eksctl-ssh-key")
        .map(field)
        .collect();
    assert_eq!(
        warned,
        [
            "nodeGroups[0].ssh.publicKeyPath",
            "nodeGroups[1].ssh.allow",
            "nodeGroups[3].ssh.publicKey"
        ]
    );
}

#[test]
fn every_eksctl_example_plans_or_is_refused_for_a_named_reason() {
    let dir = shared().join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    let mut clean = 0;
    for f in &files {
        let name = f
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(f).expect("read example");
        let a = analysis::analyze(&source(&name, &text));
        let errs = errors(&a.diagnostics);
        let codes: Vec<&str> = errs.iter().map(|d| d.code).collect();
        println!("  {name}: {codes:?}");
        for d in &errs {
            println!("      {} {}: {}", d.code, field(d), d.message);
        }
        if errs.is_empty() {
            clean += 1;
        }
        if let Some((_, code)) = INVALID_EXAMPLES.iter().find(|(p, _)| name.starts_with(p)) {
            if !codes.contains(code) {
                problems.push(format!("{name}: known invalid, but no {code}: {codes:?}"));
            }
            continue;
        }
        let refusals = REFUSED_EXAMPLES
            .iter()
            .find(|(p, _)| name.starts_with(p))
            .map_or(&[][..], |(_, r)| *r);
        let got: Vec<(String, String)> = errs
            .iter()
            .map(|d| (field(d).to_string(), format!("{} {}", d.code, d.message)))
            .collect();
        for (path, words) in refusals {
            if !got
                .iter()
                .any(|(f, m)| f == path && m.starts_with("E-render") && m.contains(words))
            {
                problems.push(format!(
                    "{name}: no refusal at {path} saying {words:?}; got {got:?}"
                ));
            }
        }
        for (f, m) in &got {
            if !refusals.iter().any(|(p, w)| p == f && m.contains(w)) {
                problems.push(format!("{name}: unexpected error at {f}: {m}"));
            }
        }
    }
    println!(
        "{clean} of {} examples plan with no error; {} refused, {} invalid",
        files.len(),
        REFUSED_EXAMPLES.len(),
        INVALID_EXAMPLES.len()
    );
    assert_eq!(files.len(), 49, "eksctl's examples");
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(
        clean,
        files.len() - REFUSED_EXAMPLES.len() - INVALID_EXAMPLES.len(),
        "every example neither invalid nor refused plans with no error"
    );
}

/// The examples of the control plane settings and access entries eksync renders, with what each
/// must render; the fields they set must not be warned about (but for the log retention, which
/// eksctl sets through the CloudWatch Logs API and eksync ignores).
#[test]
fn cluster_setting_examples_plan_and_their_fields_are_rendered_not_warned_about() {
    let rendered_fields = [
        "cloudWatch.clusterLogging.enableTypes",
        "secretsEncryption",
        "kubernetesNetworkConfig",
        "zonalShiftConfig",
        "upgradePolicy",
        "controlPlaneScalingConfig",
        "accessConfig",
    ];
    let cases: &[(&str, &str, Value)] = &[
        (
            "11-cloudwatch-cluster-logging.yaml",
            "/Logging/ClusterLogging/EnabledTypes",
            json!([{"Type": "audit"}, {"Type": "authenticator"}, {"Type": "controllerManager"}]),
        ),
        (
            "19-kms-cluster.yaml",
            "/EncryptionConfig",
            json!([{
                "Provider": {"KeyArn": "arn:aws:kms:us-west-2:000000000000:key/00000000-0000-0000-0000-000000000000"},
                "Resources": ["secrets"],
            }]),
        ),
        (
            "40-access-entries.yaml",
            "/AccessConfig",
            json!({"AuthenticationMode": "API", "BootstrapClusterCreatorAdminPermissions": false}),
        ),
        (
            "41-zonal-shift.yaml",
            "/ZonalShiftConfig",
            json!({"Enabled": true}),
        ),
        (
            "45-upgrade-policy-example.yaml",
            "/UpgradePolicy",
            json!({"SupportType": "EXTENDED"}),
        ),
        (
            "46-control-plane-scaling-config.yaml",
            "/ControlPlaneScalingConfig",
            json!({"Tier": "tier-xl"}),
        ),
    ];
    let mut problems = Vec::new();
    for (file, pointer, want) in cases {
        let path = shared().join("examples").join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let a = analysis::analyze(&source(file, &text));
        let errs = errors(&a.diagnostics);
        if !errs.is_empty() {
            problems.push(format!(
                "{file}: errors {:?}",
                errs.iter()
                    .map(|d| format!("{} {}: {}", d.code, field(d), d.message))
                    .collect::<Vec<_>>()
            ));
        }
        for d in a
            .diagnostics
            .iter()
            .filter(|d| d.code == "W-eksctl-unrendered")
        {
            let f = field(d);
            if f != "cloudWatch.clusterLogging.logRetentionInDays"
                && rendered_fields.iter().any(|r| names(f, r))
            {
                problems.push(format!("{file}: a rendered field is warned about: {f}"));
            }
        }
        let stacks = a.stacks.first().map_or(&[][..], Vec::as_slice);
        let Some(cluster) = render::find_cluster_stack(stacks) else {
            problems.push(format!("{file}: no cluster stack"));
            continue;
        };
        let cp = &cluster.template["Resources"]["ControlPlane"]["Properties"];
        if cp.pointer(pointer) != Some(want) {
            problems.push(format!(
                "{file}: ControlPlane{pointer} is {:?}, not {want}",
                cp.pointer(pointer)
            ));
        }
        if file.starts_with("11-") {
            let retention = a.diagnostics.iter().any(|d| {
                d.code == "W-eksctl-unrendered"
                    && field(d) == "cloudWatch.clusterLogging.logRetentionInDays"
            });
            if !retention {
                problems.push(format!(
                    "{file}: no warning that logRetentionInDays is ignored"
                ));
            }
        }
        if file.starts_with("40-") {
            let entries: Vec<&render::RenderedStack> = stacks
                .iter()
                .filter(|s| matches!(s.kind, render::StackKind::AccessEntry { .. }))
                .collect();
            if entries.len() != 4 {
                problems.push(format!(
                    "{file}: {} access entry stacks, not 4",
                    entries.len()
                ));
            }
            let view = render::find_access_entry_stack(
                stacks,
                "arn:aws:iam::111122223333:role/role-name-1",
            )
            .map(|s| {
                s.template["Resources"]["AccessEntry"]["Properties"]["AccessPolicies"].clone()
            });
            let want = json!([{
                "AccessScope": {"Namespaces": ["default", "my-namespace", "dev-*"], "Type": "namespace"},
                "PolicyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            }]);
            if view.as_ref() != Some(&want) {
                problems.push(format!("{file}: role-name-1's policies are {view:?}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
