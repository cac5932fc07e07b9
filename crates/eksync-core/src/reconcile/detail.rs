//! What a live plan says about one item, as data: template and parameter changes, change-set
//! rows, field diffs, why something waits or is blocked, and drift with who caused it. Reports
//! turn these into text (`exec::report`); nothing here is text meant for people except the
//! messages that arrive as text (an API server's rejection, an error chain).
//!
//! It does not render, and it keeps no Secret value: field diffs of Secrets are masked by
//! `kdiff` before they get here.

use crate::awsdiff::{Drift, MapChange, ResourceChangePreview, TemplateChange};
use crate::kdiff::ObjectDiff;
use crate::reconcile::prune::Kept;

/// One fact about an item.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// The stack cannot change now (a rollback state, a stack in progress).
    StackBlocked(String),
    /// A value of the deployed template changes.
    Template(TemplateChange),
    /// A stack parameter or tag changes.
    Map(MapChange),
    /// The IAM role an inline policy goes on.
    Role(String),
    /// The stack is observed: read, never changed.
    Observed,
    /// An observed stack differs from Git in this many places (not applied).
    ObservedDiffers(usize),
    /// An observed stack does not exist.
    ObservedMissing,
    /// A change-set row: action, resource and replacement.
    ChangeSet(ResourceChangePreview),
    /// The change-set preview could not be made.
    PreviewUnavailable(String),
    /// A warning about the object as Git holds it.
    Warning(String),
    /// A custom resource created after its CRD, in this wave.
    CreateAfterCrd(usize),
    /// An object created after its namespace, in this wave.
    CreateAfterNamespace { namespace: String, wave: usize },
    /// A binding created after the role it references (same plan), in this wave: the API
    /// server resolves that role to check the binding, so no dry run is possible before.
    CreateAfterRole { role: String, wave: usize },
    /// The cluster does not serve this kind.
    NotServed { kind: String, api_version: String },
    /// Values from AWS are known only after apply: diffed once they exist.
    ValuesKnownAfterApply,
    /// Field-level changes of an update (Secrets masked).
    Fields(ObjectDiff),
    /// The API server rejects the object.
    Rejected(String),
    /// Immutable fields change and the object opted in: deleted and recreated.
    Recreate(Vec<String>),
    /// Immutable fields change and the object did not opt in.
    ImmutableChange(String),
    /// The dry run failed.
    DryRunFailed(String),
    /// A managed object that left Git.
    LeftGit(LeftGit),
}

/// What happens to an object that left Git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeftGit {
    Kept(Kept),
    Deleted,
    /// Pruning was not asked for.
    NotPruning,
    /// A guard refused the prune.
    Refused,
}

/// A live value that differs from Git, and what happens to it.
#[derive(Debug, Clone, PartialEq)]
pub enum DriftNote {
    /// An AWS value (Auto Scaling group, inline policy, EKS cluster), with its owner and
    /// disposition.
    Aws(Box<Drift>),
    /// A Kubernetes field another manager changed; Git's value is put back.
    Field { path: String, by: Option<String> },
}
