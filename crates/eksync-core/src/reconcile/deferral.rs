//! Decisions about objects that live state alone cannot judge yet: a custom resource whose CRD,
//! or an object whose Namespace, this same plan creates (no dry run is possible before that
//! wave), a kind the cluster does not serve, and an observed stack (read for its outputs, never
//! changed).
//!
//! Pure: it reads the analysis; the executor asks before it dry-runs or plans a step.

use super::{Action, Detail};
use crate::analysis::Analysis;
use crate::graph::NodeRef;
use crate::kdiff;
use crate::model::KubeObject;

/// The wave (1-based) of the first repo object that `pred` accepts.
fn first_wave(a: &Analysis, pred: impl Fn(&KubeObject) -> bool) -> Option<usize> {
    a.graph
        .nodes
        .iter()
        .enumerate()
        .find_map(|(n, node)| match node.what {
            NodeRef::Object(ci) if a.model.objects.get(ci).is_some_and(&pred) => {
                Some(a.order.wave_of.get(n).map_or(0, |w| w + 1))
            }
            _ => None,
        })
}

/// The wave of the repo's CRD that defines `o`'s kind, if the repo holds one.
pub fn crd_wave(a: &Analysis, o: &KubeObject) -> Option<usize> {
    first_wave(a, |c| {
        c.key.kind == "CustomResourceDefinition"
            && kdiff::crd_defines(&c.body, &o.api_version, &o.key.kind)
    })
}

/// The wave of the repo's Namespace that `o` lives in, if the repo holds it.
pub fn namespace_wave(a: &Analysis, o: &KubeObject) -> Option<usize> {
    let ns = o.key.namespace.as_deref()?;
    first_wave(a, |c| {
        c.key.kind == "Namespace" && c.key.group.is_empty() && c.key.name == ns
    })
}

/// The wave of the repo's Role or ClusterRole that a binding `o` references, if the repo holds
/// it.
pub fn role_wave(a: &Analysis, o: &KubeObject) -> Option<(String, usize)> {
    if o.key.group != "rbac.authorization.k8s.io"
        || !matches!(o.key.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
    {
        return None;
    }
    let kind = o.body.pointer("/roleRef/kind")?.as_str()?;
    let name = o.body.pointer("/roleRef/name")?.as_str()?;
    let ns = (kind == "Role")
        .then_some(o.key.namespace.as_deref())
        .flatten();
    let wave = first_wave(a, |c| {
        c.key.group == "rbac.authorization.k8s.io"
            && c.key.kind == kind
            && c.key.name == name
            && c.key.namespace.as_deref() == ns
    })?;
    Some((format!("{kind} {name}"), wave))
}

/// A binding whose role this plan creates: its dry run cannot be judged before that wave.
pub fn role_missing(a: &Analysis, o: &KubeObject) -> Option<(Action, Detail)> {
    let (role, wave) = role_wave(a, o)?;
    Some((Action::Create, Detail::CreateAfterRole { role, wave }))
}

/// A kind the cluster does not serve: created once its CRD (in the same plan) exists, else
/// blocked.
pub fn not_served(a: &Analysis, o: &KubeObject) -> (Action, Detail) {
    match crd_wave(a, o) {
        Some(w) => (Action::Create, Detail::CreateAfterCrd(w)),
        None => (
            Action::Blocked,
            Detail::NotServed {
                kind: o.key.kind.clone(),
                api_version: o.api_version.clone(),
            },
        ),
    }
}

/// The dry run answered that `o`'s namespace does not exist: a create after that namespace's
/// wave when this plan creates it, else `None` (the error stands).
pub fn namespace_missing(a: &Analysis, o: &KubeObject) -> Option<(Action, Detail)> {
    let wave = namespace_wave(a, o)?;
    Some((
        Action::Create,
        Detail::CreateAfterNamespace {
            namespace: o.key.namespace.clone().unwrap_or_default(),
            wave,
        },
    ))
}

/// An observed stack (`eksync.io/cluster-stack: observe`): never changed; blocked when it does
/// not exist (its outputs cannot flow). `differs` counts the places it differs from Git.
pub fn observed(exists: bool, differs: usize) -> (Action, Vec<Detail>) {
    match (exists, differs) {
        (false, _) => (
            Action::Blocked,
            vec![Detail::Observed, Detail::ObservedMissing],
        ),
        (true, 0) => (Action::NoChange, vec![Detail::Observed]),
        (true, n) => (
            Action::NoChange,
            vec![Detail::Observed, Detail::ObservedDiffers(n)],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::source::{Source, SourceFile};

    fn analysis(files: &[(&str, &str)]) -> Analysis {
        let src = Source {
            files: files
                .iter()
                .map(|(p, t)| SourceFile {
                    path: p.to_string(),
                    bytes: t.as_bytes().to_vec(),
                })
                .collect(),
            skipped: Vec::new(),
        };
        let a = analyze(&src);
        assert!(!a.has_errors(), "{:?}", a.diagnostics);
        a
    }

    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names:\n    kind: Widget\n    plural: widgets\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n";
    const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";
    const WIDGET: &str =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: shop\n";
    const GADGET: &str =
        "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: shop\n";

    fn object<'a>(a: &'a Analysis, name: &str) -> &'a KubeObject {
        a.model
            .objects
            .iter()
            .find(|o| o.key.name == name)
            .expect("object in the model")
    }

    #[test]
    fn deferrals_follow_what_the_same_plan_creates() {
        let a = analysis(&[
            ("crd.yaml", CRD),
            ("ns.yaml", NS),
            ("w.yaml", WIDGET),
            ("g.yaml", GADGET),
        ]);
        let w = object(&a, "w");
        let crd = crd_wave(&a, w).expect("the CRD is in the plan");
        let ns = namespace_wave(&a, w).expect("the namespace is in the plan");
        assert_eq!(
            not_served(&a, w),
            (Action::Create, Detail::CreateAfterCrd(crd))
        );
        assert_eq!(
            namespace_missing(&a, w),
            Some((
                Action::Create,
                Detail::CreateAfterNamespace {
                    namespace: "shop".into(),
                    wave: ns
                }
            ))
        );
        let g = object(&a, "g");
        assert_eq!(
            not_served(&a, g),
            (
                Action::Blocked,
                Detail::NotServed {
                    kind: "Gadget".into(),
                    api_version: "example.com/v1".into()
                }
            )
        );
        let other = analysis(&[("w.yaml", WIDGET)]);
        assert_eq!(namespace_missing(&other, object(&other, "w")), None);
    }

    #[test]
    fn observed_stacks_never_change() {
        let cases = [
            (
                false,
                0,
                Action::Blocked,
                vec![Detail::Observed, Detail::ObservedMissing],
            ),
            (
                false,
                3,
                Action::Blocked,
                vec![Detail::Observed, Detail::ObservedMissing],
            ),
            (true, 0, Action::NoChange, vec![Detail::Observed]),
            (
                true,
                2,
                Action::NoChange,
                vec![Detail::Observed, Detail::ObservedDiffers(2)],
            ),
        ];
        for (exists, differs, action, details) in cases {
            assert_eq!(
                observed(exists, differs),
                (action, details),
                "{exists} {differs}"
            );
        }
    }
}
