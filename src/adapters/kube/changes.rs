//! Watching the managed set for changes made by others: one kube-rs `watcher` per kind over
//! this source's labels (`app.kubernetes.io/managed-by=eksync`, `eksync.io/source=<source>`),
//! cluster-wide, restarted with backoff after a dropped connection and re-listed after a 410 by
//! the watcher itself. It reports that something changed, never what: the agent answers with a
//! full, level-triggered reconcile, which finds the difference itself.

use futures::stream::{self, BoxStream, StreamExt};
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;

use super::client::KubeAdapter;
use super::discovery::ResolvedKind;
use crate::core::kdiff::{MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_LABEL};

/// Something about the managed set may have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// `Kind namespace/name` of the object, or `Kind (watch started)` / `Kind (re-listed)` once a
    /// list completed (what changed before it is not known one by one).
    pub what: String,
}

impl KubeAdapter {
    /// Changes to this source's objects of `kinds`: one when each watch's list completes (the
    /// first, and after each restart), then one per event. The stream never ends by itself; drop
    /// it to stop watching.
    pub fn watch_managed(&self, kinds: &[ResolvedKind]) -> BoxStream<'static, Changed> {
        let selector = format!(
            "{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{SOURCE_LABEL}={}",
            self.settings().source
        );
        let streams = kinds.iter().map(|r| {
            let resource = ApiResource {
                group: r.group.clone(),
                version: r.version.clone(),
                api_version: r.api_version(),
                kind: r.kind.clone(),
                plural: r.plural.clone(),
            };
            let api: Api<DynamicObject> = Api::all_with(self.inner.client.clone(), &resource);
            let kind = r.kind.clone();
            let mut listed = false;
            watcher::watcher(api, watcher::Config::default().labels(&selector))
                .default_backoff()
                .filter_map(move |e| {
                    let out = match e {
                        Ok(Event::Apply(o)) | Ok(Event::Delete(o)) => Some(Changed {
                            what: describe(&kind, &o),
                        }),
                        // A change between the last reconcile's read and this list is in the
                        // list, not in an event: every completed list (the first, and each one
                        // after a restart) counts as a possible change.
                        Ok(Event::InitDone) => {
                            let what = if listed { "re-listed" } else { "watch started" };
                            listed = true;
                            Some(Changed {
                                what: format!("{kind} ({what})"),
                            })
                        }
                        Ok(Event::Init) | Ok(Event::InitApply(_)) => None,
                        Err(e) => {
                            tracing::debug!(kind = %kind, error = %e, "watch of the managed set interrupted; it restarts");
                            None
                        }
                    };
                    std::future::ready(out)
                })
                .boxed()
        });
        stream::select_all(streams).boxed()
    }
}

fn describe(kind: &str, o: &DynamicObject) -> String {
    let name = o.metadata.name.as_deref().unwrap_or("?");
    match o.metadata.namespace.as_deref() {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}
