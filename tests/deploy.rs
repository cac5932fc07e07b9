//! `deploy/base`, the kustomize base that installs the agent for `examples-repo/`: it renders
//! with `kubectl kustomize`; it holds every object the agent needs (CRD, Namespace, the IRSA
//! ServiceAccount, a hardened two-replica Deployment with probes, Service, PDB) and no Secret; the
//! agent's args use only flags `eksync agent` has; the RBAC grants no wildcard and binds no
//! built-in admin role; and `rbac.yaml` is exactly what `eksync permissions` prints today, so it
//! can never go stale (`scripts/gen-deploy-rbac.sh` rewrites it).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

const PERMISSIONS_ARGS: &[&str] = &[
    "permissions",
    "examples-repo",
    "--for",
    "kubernetes",
    "--service-account",
    "eksync-system/eksync",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `$KUBECTL` (as the benches read it), else `kubectl` on PATH.
fn kubectl() -> PathBuf {
    std::env::var_os("KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("kubectl"))
}

/// `kubectl kustomize deploy/base`, parsed: one JSON value per document.
fn rendered() -> &'static [Value] {
    static DOCS: OnceLock<Vec<Value>> = OnceLock::new();
    DOCS.get_or_init(|| parse_docs(rendered_text()))
}

/// `kubectl kustomize deploy/base`, as printed.
fn rendered_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let kubectl = kubectl();
        let out = match Command::new(&kubectl)
            .args(["kustomize", "deploy/base"])
            .current_dir(root())
            .output()
        {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "kubectl is not installed (looked for {:?}; $KUBECTL overrides): \
                 run scripts/setup.sh, which installs Debian's kubectl, or put kubectl 1.20+ on PATH",
                kubectl
            ),
            Err(e) => panic!("running {kubectl:?} kustomize deploy/base: {e}"),
        };
        assert!(
            out.status.success(),
            "`kubectl kustomize deploy/base` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("kustomize output is UTF-8")
    })
}

fn parse_docs(text: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| {
            let y = serde_yaml_ng::Value::deserialize(d).expect("a YAML document");
            serde_json::to_value(y).expect("YAML that maps to JSON")
        })
        .filter(|v| !v.is_null())
        .collect()
}

fn all_of<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn one<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<_> = all_of(docs, kind)
        .into_iter()
        .filter(|d| d["metadata"]["name"] == name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {kind} {name} in the rendered base, found {}",
        found.len()
    );
    found[0]
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn deployment() -> &'static Value {
    one(rendered(), "Deployment", "eksync")
}

fn container() -> &'static Value {
    let containers = deployment()["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 1, "one container");
    &containers[0]
}

/// The source ConfigMap (its generated name carries a hash suffix).
fn source_config() -> &'static Value {
    let found: Vec<_> = all_of(rendered(), "ConfigMap")
        .into_iter()
        .filter(|d| {
            d["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("eksync-source-"))
        })
        .collect();
    assert_eq!(found.len(), 1, "one eksync-source ConfigMap");
    found[0]
}

#[test]
fn base_renders_every_object_the_agent_needs_and_no_secret() {
    let docs = rendered();
    let crd = one(docs, "CustomResourceDefinition", "syncs.eksync.io");
    assert_eq!(crd["spec"]["names"]["kind"], "Sync");
    one(docs, "Namespace", "eksync-system");

    let sa = one(docs, "ServiceAccount", "eksync");
    assert_eq!(sa["metadata"]["namespace"], "eksync-system");
    assert_eq!(
        sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        "arn:aws:iam::111122223333:role/eksync-agent"
    );

    let pdb = one(docs, "PodDisruptionBudget", "eksync");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    let svc = one(docs, "Service", "eksync");
    let ports = svc["spec"]["ports"].as_array().expect("service ports");
    assert!(
        ports
            .iter()
            .any(|p| p["name"] == "http" && p["port"] == 8080),
        "{svc}"
    );

    // Pods are what the Service and the PDB select.
    let pod_labels = &deployment()["spec"]["template"]["metadata"]["labels"];
    for (what, selector) in [
        ("Service", &svc["spec"]["selector"]),
        (
            "PodDisruptionBudget",
            &pdb["spec"]["selector"]["matchLabels"],
        ),
        (
            "Deployment",
            &deployment()["spec"]["selector"]["matchLabels"],
        ),
    ] {
        let selector = selector.as_object().expect("a selector");
        assert!(!selector.is_empty(), "{what} selects everything");
        for (k, v) in selector {
            assert_eq!(
                &pod_labels[k], v,
                "{what} selector {k} does not match the pods"
            );
        }
    }
    for d in docs {
        let name = d["metadata"]["name"].as_str().unwrap_or_default();
        // Every object of ours carries the part-of label (the generated RBAC included).
        assert_eq!(
            d["metadata"]["labels"]["app.kubernetes.io/part-of"], "eksync",
            "{} {name} lacks app.kubernetes.io/part-of: eksync",
            d["kind"]
        );
        // Secrets are created by hand, never shipped with values.
        assert_ne!(
            d["kind"], "Secret",
            "the base must not hold a Secret ({name})"
        );
    }
}

#[test]
fn deployment_runs_two_hardened_replicas_with_probes() {
    let d = deployment();
    assert_eq!(d["metadata"]["namespace"], "eksync-system");
    assert_eq!(d["spec"]["replicas"], 2);
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "eksync");
    assert_eq!(pod["terminationGracePeriodSeconds"], 60);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let spread = pod["topologySpreadConstraints"]
        .as_array()
        .expect("topologySpreadConstraints");
    assert!(
        spread
            .iter()
            .any(|t| t["topologyKey"] == "kubernetes.io/hostname"),
        "replicas are spread across nodes"
    );

    let c = container();
    let image = c["image"].as_str().expect("image");
    assert!(
        image.contains('/'),
        "the image is set in kustomization.yaml: {image}"
    );
    let sc = &c["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["runAsUser"], 65532);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"]);
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");

    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    let port_names: Vec<_> = c["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter(|p| p["containerPort"] == 8080)
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(port_names, [Value::from("http")]);
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(c[probe]["httpGet"]["port"], "http", "{probe}");
    }
    for (kind, key) in [
        ("requests", "cpu"),
        ("requests", "memory"),
        ("limits", "cpu"),
        ("limits", "memory"),
    ] {
        assert!(
            c["resources"][kind][key].is_string(),
            "resources.{kind}.{key}"
        );
    }

    // The downward API gives the Lease identity and the namespace.
    let env = c["env"].as_array().expect("env");
    for (name, path) in [
        ("POD_NAME", "metadata.name"),
        ("POD_NAMESPACE", "metadata.namespace"),
    ] {
        assert!(
            env.iter()
                .any(|e| e["name"] == name && e["valueFrom"]["fieldRef"]["fieldPath"] == path),
            "env {name} from {path}"
        );
    }
}

#[test]
fn agent_args_use_existing_flags_and_mounted_files() {
    let c = container();
    let args = strings(&c["args"]);
    assert_eq!(args.first(), Some(&"agent"), "{args:?}");
    let flag = |name: &str| -> &str {
        let i = args
            .iter()
            .position(|a| *a == name)
            .unwrap_or_else(|| panic!("args lack {name}: {args:?}"));
        args.get(i + 1)
            .copied()
            .unwrap_or_else(|| panic!("{name} has no value"))
    };
    assert_eq!(flag("--webhook-secret-file"), "/etc/eksync/webhook/secret");
    assert_eq!(flag("--git-token-file"), "/etc/eksync/git/token");
    assert_eq!(flag("--git-cache"), "/var/cache/eksync/git");
    assert_eq!(flag("--aws-cache-dir"), "/var/cache/eksync/aws");
    assert_eq!(flag("--listen"), "0.0.0.0:8080");
    assert!(
        !args.contains(&"--no-leader-election"),
        "two replicas need leader election"
    );

    // Every flag is one `eksync agent` has.
    let help = Command::new(env!("CARGO_BIN_EXE_eksync"))
        .args(["agent", "--help"])
        .output()
        .expect("eksync agent --help");
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    for a in args.iter().filter(|a| a.starts_with("--")) {
        assert!(
            help.contains(&format!("{a} ")),
            "`eksync agent` has no flag {a}"
        );
    }

    // Every $(VAR) is defined, by the source ConfigMap or by env, so the kubelet expands it.
    let cm = source_config();
    let from_cm = c["envFrom"]
        .as_array()
        .expect("envFrom")
        .iter()
        .any(|e| e["configMapRef"]["name"] == cm["metadata"]["name"]);
    assert!(from_cm, "the container reads the eksync-source ConfigMap");
    let env: Vec<&str> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    for a in &args {
        if let Some(var) = a.strip_prefix("$(").and_then(|v| v.strip_suffix(')')) {
            let value = cm["data"][var].as_str();
            assert!(
                value.is_some_and(|v| !v.is_empty()) || env.contains(&var),
                "$({var}) is not defined"
            );
        }
    }
    assert_eq!(
        cm["data"]["EKSYNC_REPO_URL"],
        "https://github.com/example/platform.git"
    );
    assert_eq!(cm["data"]["EKSYNC_REF"], "main");
    assert_eq!(cm["data"]["EKSYNC_PATH"], "examples-repo");
    assert_eq!(flag("--path"), "$(EKSYNC_PATH)");
    assert_eq!(flag("--source"), "$(EKSYNC_SOURCE)");

    // The mounts behind those paths: the two Secrets, read-only, and emptyDirs for the caches
    // and /tmp (the root file system is read-only).
    let volumes = deployment()["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .expect("volumes");
    let volume = |name: &str| {
        volumes
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no volume {name}"))
    };
    let mounts = c["volumeMounts"].as_array().expect("volumeMounts");
    let mounted_at = |path: &str| {
        let m = mounts
            .iter()
            .find(|m| m["mountPath"] == path)
            .unwrap_or_else(|| panic!("nothing is mounted at {path}"));
        (volume(m["name"].as_str().unwrap()), m)
    };
    for (path, secret, key) in [
        ("/etc/eksync/webhook", "eksync-webhook", "secret"),
        ("/etc/eksync/git", "eksync-git", "token"),
    ] {
        let (v, m) = mounted_at(path);
        assert_eq!(v["secret"]["secretName"], secret, "{path}");
        assert_eq!(m["readOnly"], true, "{path}");
        let items = v["secret"]["items"].as_array().expect("items");
        assert!(
            items.iter().any(|i| i["key"] == key && i["path"] == key),
            "{path}: {key}"
        );
    }
    for path in ["/var/cache/eksync", "/tmp"] {
        let (v, _) = mounted_at(path);
        assert!(v["emptyDir"].is_object(), "{path} is an emptyDir");
    }
}

#[test]
fn rbac_grants_no_wildcard_and_no_admin_role() {
    let docs = rendered();
    let mut rules_seen = 0;
    for kind in ["ClusterRole", "Role"] {
        for role in all_of(docs, kind) {
            let name = &role["metadata"]["name"];
            assert!(
                role["aggregationRule"].is_null(),
                "{kind} {name} aggregates"
            );
            for rule in role["rules"].as_array().expect("rules") {
                rules_seen += 1;
                for field in ["verbs", "resources", "apiGroups", "nonResourceURLs"] {
                    for v in strings(&rule[field]) {
                        assert!(!v.contains('*'), "{kind} {name}: `{v}` in {field}: {rule}");
                    }
                }
                assert!(!strings(&rule["verbs"]).is_empty(), "{kind} {name}: {rule}");
            }
        }
    }
    assert!(rules_seen > 0, "the base holds the agent's RBAC");
    let bindings: Vec<_> = ["ClusterRoleBinding", "RoleBinding"]
        .iter()
        .flat_map(|k| all_of(docs, k))
        .collect();
    assert!(!bindings.is_empty());
    for b in bindings {
        let role = b["roleRef"]["name"].as_str().unwrap_or_default();
        assert!(
            !["cluster-admin", "admin", "edit"].contains(&role),
            "{} {} binds {role}",
            b["kind"],
            b["metadata"]["name"]
        );
        // Only the agent's ServiceAccount is bound.
        for s in b["subjects"].as_array().expect("subjects") {
            assert_eq!(s["kind"], "ServiceAccount", "{b}");
            assert_eq!(s["name"], "eksync", "{b}");
            assert_eq!(s["namespace"], "eksync-system", "{b}");
        }
    }
    // The agent runs as the source the RBAC was generated for (it names the Sync, the Lease and
    // the inventory the rules name).
    let source = &source_config()["data"]["EKSYNC_SOURCE"];
    for r in all_of(docs, "ClusterRole") {
        assert_eq!(
            &r["metadata"]["labels"]["eksync.io/permissions-for"],
            source
        );
    }
}

#[test]
fn rbac_yaml_is_what_eksync_permissions_prints() {
    let out = Command::new(env!("CARGO_BIN_EXE_eksync"))
        .args(PERMISSIONS_ARGS)
        .current_dir(root())
        .output()
        .expect("running eksync permissions");
    assert!(
        out.status.success(),
        "eksync {}: {}",
        PERMISSIONS_ARGS.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    let want = String::from_utf8(out.stdout).unwrap();
    let have = std::fs::read_to_string(root().join("deploy/base/rbac.yaml"))
        .expect("reading deploy/base/rbac.yaml");
    if have != want {
        let first = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| have.lines().count().min(want.lines().count()));
        panic!(
            "deploy/base/rbac.yaml is stale (first difference at line {}): run \
             scripts/gen-deploy-rbac.sh\n--- rbac.yaml: {:?}\n+++ eksync permissions: {:?}",
            first + 1,
            have.lines().nth(first),
            want.lines().nth(first)
        );
    }
}

/// The rendered base is accepted by an API server (the project's test server, whose built-in
/// schemas are v1.36's): each document is applied server-side with strict field validation, so
/// a misspelt or misplaced field fails here, not at install time. (Through kube-rs rather than
/// `kubectl apply`, so that any kubectl that renders the base will do.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_applies_server_side_to_an_api_server() {
    use kube::api::{Api, DynamicObject, Patch, PatchParams, ValidationDirective};
    use kube::core::GroupVersionKind;
    let docs = rendered().to_vec();
    let server = testkit::TestServer::start().await.expect("test server");
    let client = server.client().unwrap();
    let params = PatchParams::apply("deploy-test").validation(ValidationDirective::Strict);
    let mut applied = Vec::new();
    for doc in docs {
        let api_version = doc["apiVersion"].as_str().unwrap();
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let kind = doc["kind"].as_str().unwrap();
        let name = doc["metadata"]["name"].as_str().unwrap().to_string();
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, caps) = kube::discovery::pinned_kind(&client, &gvk)
            .await
            .unwrap_or_else(|e| panic!("the API server does not serve {gvk:?}: {e}"));
        let api: Api<DynamicObject> = match caps.scope {
            kube::discovery::Scope::Namespaced => Api::namespaced_with(
                client.clone(),
                doc["metadata"]["namespace"].as_str().unwrap_or("default"),
                &resource,
            ),
            kube::discovery::Scope::Cluster => Api::all_with(client.clone(), &resource),
        };
        api.patch(&name, &params, &Patch::Apply(&doc))
            .await
            .unwrap_or_else(|e| panic!("applying {kind} {name}: {e}"));
        applied.push(format!("{kind}/{name}"));
    }
    for what in [
        "CustomResourceDefinition/syncs.eksync.io",
        "Deployment/eksync",
        "PodDisruptionBudget/eksync",
        "ClusterRole/eksync:examples-repo",
    ] {
        assert!(
            applied.iter().any(|a| a == what),
            "{what} was not applied: {applied:?}"
        );
    }
}
