//! Shared by the benchmarks: the generated 10,000-manifest repo of `plan_large` (200 namespaces,
//! plus the example's ClusterConfig), in memory or written to a folder. Generation only; each
//! benchmark measures and reports on its own.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

use eksync::core::load::{Source, SourceFile};

/// Namespaces of the generated repo (one file each).
pub const NAMESPACES: usize = 200;
/// Kubernetes manifests of the generated repo.
pub const MANIFESTS: usize = 10_000;

/// Builds the repo in memory: per namespace a Namespace, then ConfigMaps, Secrets, a
/// ServiceAccount with a Role and RoleBinding, and Deployments that use them and select the
/// static node group, with Services in front; one file per namespace.
pub fn generate() -> Source {
    let cluster = include_str!("../../examples-repo/cluster/cluster.yaml");
    let mut files = vec![SourceFile {
        path: "cluster/cluster.yaml".into(),
        bytes: cluster.as_bytes().to_vec(),
    }];
    let per_ns = MANIFESTS / NAMESPACES;
    for n in 0..NAMESPACES {
        let ns = format!("team-{n:03}");
        let mut y = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n");
        let mut count = 1;
        let _ = write!(
            y,
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: {ns}\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: app\n  namespace: {ns}\n\
             rules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\"]\n    verbs: [\"get\", \"list\"]\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: app\n  namespace: {ns}\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: app\n\
             subjects:\n  - kind: ServiceAccount\n    name: app\n    namespace: {ns}\n"
        );
        count += 3;
        let mut i = 0;
        while count < per_ns {
            let app = format!("app-{i:02}");
            let _ = write!(
                y,
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n  namespace: {ns}\n  labels:\n    app: {app}\n\
                 data:\n  LOG_LEVEL: info\n  FEATURE_X: \"true\"\n"
            );
            count += 1;
            if count < per_ns {
                let _ = write!(
                    y,
                    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app: {app}\n\
                     spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n\
                     \x20   spec:\n      serviceAccountName: app\n      nodeSelector:\n        lifecycle: OnDemand\n      containers:\n\
                     \x20       - name: main\n          image: registry.example.com/{app}:1.2.3\n          envFrom:\n            - configMapRef:\n                name: {app}-config\n\
                     \x20         ports:\n            - containerPort: 8080\n"
                );
                count += 1;
            }
            if count < per_ns {
                let _ = write!(
                    y,
                    "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  selector:\n    app: {app}\n\
                     \x20 ports:\n    - port: 80\n      targetPort: 8080\n"
                );
                count += 1;
            }
            i += 1;
        }
        files.push(SourceFile {
            path: format!("k8s/{ns}.yaml"),
            bytes: y.into_bytes(),
        });
    }
    Source {
        files,
        skipped: Vec::new(),
    }
}

/// Writes a source's files under `dir` (folders created as needed).
pub fn write_source(src: &Source, dir: &Path) -> std::io::Result<()> {
    for f in &src.files {
        let path = dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &f.bytes)?;
    }
    Ok(())
}
