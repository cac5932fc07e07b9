//! Kubernetes object diffs without noise, as pure functions over JSON bodies.
//!
//! It prepares what eksync sends (`prepare`: ownership label, HPA-owned replicas left out with a
//! handover body so they are not reset, server fields dropped), compares a server-side dry-run
//! apply result with the live object (`diff`: server-owned metadata, `status` and controller
//! annotations ignored; drift attributed to the field manager that owns the live value), renders
//! diffs for people with Secret values masked (`render`), classifies dry-run 422 errors into
//! immutable-field changes and decides between delete+recreate and an error (`immutable`), matches
//! live objects to desired ones, spots unlisted existing objects and custom resources whose CRD
//! the repo defines (`live`), judges rollout readiness (`readiness`) and holds the inventory of
//! applied object identities (`inventory`).
//!
//! It deliberately does not talk to a cluster, name `kube` types, read a clock or decide the order
//! of steps: the Kubernetes adapter does the requests and the executor decides what to do with
//! the results.

pub mod diff;
pub mod escalation;
pub mod immutable;
pub mod inventory;
pub mod live;
pub mod prepare;
pub mod readiness;
pub mod render;

pub use diff::{diff, Action, FieldChange, ObjectDiff};
pub use escalation::escalation_hint;
pub use immutable::{decide_immutable, immutable_fields, ImmutableDecision};
pub use inventory::{fingerprint, Inventory, InventoryEntry};
pub use live::{crd_defines, index_live, needs_live_read, object_key};
pub use prepare::{prepare, replicas_handover, PrepareContext, Prepared, HANDOVER_MANAGER};
pub use readiness::{needs_wait, readiness, Readiness};
pub use render::{change_lines, render};

/// The field manager eksync applies with.
pub const FIELD_MANAGER: &str = "eksync";
/// The ownership label eksync puts on every object it applies.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "eksync";
/// The label naming the source (a repo, or a path in one) an object was applied from.
pub const SOURCE_LABEL: &str = "eksync.io/source";
/// Annotation opting an object into delete+recreate when an immutable field changes.
pub const RECREATE_ANNOTATION: &str = "eksync.io/recreate-on-immutable-change";
