//! What may be pruned, and in which order: the managed objects of this source that left Git,
//! minus those an annotation keeps, behind the guards that stop a mistake from deleting a cluster
//! (an empty repo, too large a share of the inventory). Deletes go in reverse install order:
//! workloads before what they use, namespaces last.
//!
//! It decides; the executor deletes, and writes the inventory only after a delete succeeded.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::kdiff::{Inventory, InventoryEntry};
use crate::kube::ObjectKey;

/// Annotation that keeps an object from ever being pruned.
pub const PRUNE_ANNOTATION: &str = "eksync.io/prune";

/// How pruning behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct PruneOptions {
    /// Delete objects that left Git (otherwise they are only reported).
    pub enabled: bool,
    /// Refuse to delete more than this share of the inventory in one run...
    pub max_share: f64,
    /// ...unless this is set.
    pub allow_large: bool,
}

impl Default for PruneOptions {
    fn default() -> Self {
        PruneOptions {
            enabled: false,
            max_share: 0.5,
            allow_large: false,
        }
    }
}

/// A managed object that is no longer in Git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneCandidate {
    pub entry: InventoryEntry,
    /// Why it is kept, when something keeps it.
    pub kept: Option<Kept>,
}

/// Why an object that left Git stays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kept {
    /// `eksync.io/prune: disabled` on the live object.
    Annotation,
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kept::Annotation => write!(f, "{PRUNE_ANNOTATION}: disabled"),
        }
    }
}

/// Whether a live object carries the opt-out annotation.
pub fn kept_by_annotation(live: &serde_json::Value) -> Option<Kept> {
    (live
        .pointer("/metadata/annotations")
        .and_then(|m| m.get(PRUNE_ANNOTATION))
        .and_then(serde_json::Value::as_str)
        == Some("disabled"))
    .then_some(Kept::Annotation)
}

/// The managed objects of this source that left Git: in its inventory, not in `desired`, and
/// still in the cluster (`live`, the listed managed set), each with what keeps it if anything.
pub fn candidates(
    desired: &Inventory,
    inventory: Option<&Inventory>,
    live: &BTreeMap<ObjectKey, Value>,
) -> Vec<PruneCandidate> {
    let Some(inv) = inventory else {
        return Vec::new();
    };
    inv.missing_from(desired)
        .into_iter()
        .filter_map(|entry| {
            let obj = live.get(&entry.key())?;
            Some(PruneCandidate {
                kept: kept_by_annotation(obj),
                entry,
            })
        })
        .collect()
}

/// Why a guard refused the whole prune.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "guard", rename_all = "kebab-case")]
pub enum Refusal {
    /// The repo yields no objects at all: almost always a wrong path or a broken checkout.
    EmptyRepo,
    /// More than the allowed share of the inventory would go.
    TooLarge {
        count: usize,
        inventory: usize,
        max_share: f64,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::EmptyRepo => write!(f, "the repo yields no Kubernetes objects at all"),
            Refusal::TooLarge {
                count,
                inventory,
                max_share,
            } => write!(
                f,
                "{count} of {inventory} inventoried objects ({:.0}%) is more than the allowed {:.0}%; pass --prune-allow-large to go ahead",
                *count as f64 / (*inventory).max(1) as f64 * 100.0,
                max_share * 100.0
            ),
        }
    }
}

/// What the run does about objects that left Git.
#[derive(Debug, Clone, PartialEq)]
pub enum PruneDecision {
    /// Nothing left Git, or everything that did is kept.
    Nothing,
    /// Pruning was not asked for: the candidates are reported.
    ReportOnly,
    /// A guard refused: nothing is deleted; these would have been.
    Refused {
        refusal: Refusal,
        would_delete: Vec<InventoryEntry>,
    },
    /// Delete these, in this order.
    Delete(Vec<InventoryEntry>),
}

/// Decides the prune of `candidates`, given the inventory's size and the number of Kubernetes
/// objects the repo yields.
pub fn decide(
    candidates: &[PruneCandidate],
    inventory_len: usize,
    repo_objects: usize,
    opts: &PruneOptions,
) -> PruneDecision {
    let to_delete: Vec<InventoryEntry> = candidates
        .iter()
        .filter(|c| c.kept.is_none())
        .map(|c| c.entry.clone())
        .collect();
    if to_delete.is_empty() {
        return PruneDecision::Nothing;
    }
    if !opts.enabled {
        return PruneDecision::ReportOnly;
    }
    let share = to_delete.len() as f64 / inventory_len.max(1) as f64;
    let refusal = if repo_objects == 0 {
        Some(Refusal::EmptyRepo)
    } else if share > opts.max_share && !opts.allow_large {
        Some(Refusal::TooLarge {
            count: to_delete.len(),
            inventory: inventory_len,
            max_share: opts.max_share,
        })
    } else {
        None
    };
    match refusal {
        Some(refusal) => PruneDecision::Refused {
            refusal,
            would_delete: to_delete,
        },
        None => PruneDecision::Delete(delete_order(to_delete)),
    }
}

/// Reverse install order: workloads and namespaced objects first, then cluster-wide objects they
/// use, CRDs, and namespaces last. Stable inside a rank.
pub fn delete_order(mut entries: Vec<InventoryEntry>) -> Vec<InventoryEntry> {
    let rank = |k: &str| match k {
        "Namespace" => 3,
        "CustomResourceDefinition" => 2,
        "PersistentVolume" | "StorageClass" | "ClusterRole" | "ClusterRoleBinding" => 1,
        _ => 0,
    };
    entries.sort_by_key(|e| rank(&e.kind));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(kind: &str, name: &str) -> InventoryEntry {
        InventoryEntry {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: (kind != "Namespace").then(|| "ns".into()),
            name: name.into(),
            applied: None,
        }
    }

    fn cand(kind: &str, name: &str, kept: bool) -> PruneCandidate {
        PruneCandidate {
            entry: e(kind, name),
            kept: kept.then_some(Kept::Annotation),
        }
    }

    /// name, candidates, inventory size, repo objects, options, expected decision
    type Case<'a> = (
        &'a str,
        &'a [PruneCandidate],
        usize,
        usize,
        &'a PruneOptions,
        PruneDecision,
    );

    #[test]
    fn decisions_table() {
        let on = PruneOptions {
            enabled: true,
            ..PruneOptions::default()
        };
        let off = PruneOptions::default();
        let large = PruneOptions {
            allow_large: true,
            ..on.clone()
        };
        let one = vec![cand("ConfigMap", "a", false)];
        let kept = vec![cand("ConfigMap", "a", true)];
        let three = vec![
            cand("Namespace", "ns", false),
            cand("ConfigMap", "a", false),
            cand("ClusterRole", "r", false),
        ];
        let cases: Vec<Case> = vec![
            ("nothing left Git", &[], 10, 5, &on, PruneDecision::Nothing),
            (
                "only kept objects",
                &kept,
                10,
                5,
                &on,
                PruneDecision::Nothing,
            ),
            (
                "not asked for",
                &one,
                10,
                5,
                &off,
                PruneDecision::ReportOnly,
            ),
            (
                "small share",
                &one,
                10,
                5,
                &on,
                PruneDecision::Delete(vec![e("ConfigMap", "a")]),
            ),
            (
                "empty repo",
                &one,
                10,
                0,
                &on,
                PruneDecision::Refused {
                    refusal: Refusal::EmptyRepo,
                    would_delete: vec![e("ConfigMap", "a")],
                },
            ),
            (
                "too large a share",
                &three,
                4,
                1,
                &on,
                PruneDecision::Refused {
                    refusal: Refusal::TooLarge {
                        count: 3,
                        inventory: 4,
                        max_share: 0.5,
                    },
                    would_delete: vec![
                        e("Namespace", "ns"),
                        e("ConfigMap", "a"),
                        e("ClusterRole", "r"),
                    ],
                },
            ),
            (
                "large share allowed, reverse install order",
                &three,
                4,
                1,
                &large,
                PruneDecision::Delete(vec![
                    e("ConfigMap", "a"),
                    e("ClusterRole", "r"),
                    e("Namespace", "ns"),
                ]),
            ),
            (
                "exactly the max share is allowed",
                &one,
                2,
                1,
                &on,
                PruneDecision::Delete(vec![e("ConfigMap", "a")]),
            ),
        ];
        for (name, cands, inv, objs, opts, want) in cases {
            assert_eq!(decide(cands, inv, objs, opts), want, "{name}");
        }
    }

    #[test]
    fn candidates_are_inventoried_gone_from_git_and_still_live() {
        let inv = Inventory::new([
            e("ConfigMap", "a"),
            e("ConfigMap", "b"),
            e("ConfigMap", "c"),
        ]);
        let desired = Inventory::new([e("ConfigMap", "a")]);
        let keep =
            serde_json::json!({"metadata": {"annotations": {"eksync.io/prune": "disabled"}}});
        // b is live and kept by its annotation; c is already gone from the cluster.
        let live = BTreeMap::from([
            (e("ConfigMap", "a").key(), serde_json::json!({})),
            (e("ConfigMap", "b").key(), keep),
        ]);
        assert_eq!(
            candidates(&desired, Some(&inv), &live),
            vec![PruneCandidate {
                entry: e("ConfigMap", "b"),
                kept: Some(Kept::Annotation)
            }]
        );
        assert!(candidates(&desired, None, &live).is_empty());
    }

    #[test]
    fn refusal_texts_name_the_guard() {
        let t = Refusal::TooLarge {
            count: 3,
            inventory: 4,
            max_share: 0.5,
        }
        .to_string();
        assert_eq!(
            t,
            "3 of 4 inventoried objects (75%) is more than the allowed 50%; pass --prune-allow-large to go ahead"
        );
        assert!(Refusal::EmptyRepo
            .to_string()
            .contains("no Kubernetes objects"));
    }

    #[test]
    fn the_annotation_keeps_an_object() {
        let live =
            serde_json::json!({"metadata": {"annotations": {"eksync.io/prune": "disabled"}}});
        assert_eq!(kept_by_annotation(&live), Some(Kept::Annotation));
        let other =
            serde_json::json!({"metadata": {"annotations": {"eksync.io/prune": "enabled"}}});
        assert_eq!(kept_by_annotation(&other), None);
        assert_eq!(kept_by_annotation(&serde_json::json!({})), None);
    }
}
