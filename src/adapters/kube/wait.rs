//! Waiting for one object through a watch (kube-rs's `await_condition`: a LIST then a WATCH on
//! `metadata.name`, restarted by the watcher after a dropped connection or a 410), so a step ends
//! when its object is ready rather than at the next poll, and a long wait costs one open request
//! instead of a GET every few seconds.
//!
//! It judges nothing: the caller says when the object is settled. It sets no deadline and does
//! not cancel: the caller wraps the future (and falls back to polling if the watch fails, for
//! example where watching is forbidden). A watch holds no concurrency permit: it would starve the
//! short requests for as long as it waits.

use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::Value;

use super::client::KubeAdapter;
use super::KubeError;

impl KubeAdapter {
    /// Watches one object until `settled` holds for it (`None`: it does not exist) and returns it
    /// as last seen.
    pub async fn wait_for(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        settled: impl Fn(Option<&Value>) -> bool + Send + 'static,
    ) -> Result<Option<Value>, KubeError> {
        let r = self.require(api_version, kind).await?;
        let ns = self.namespace_for(&r, namespace);
        let resource = ApiResource {
            group: r.group.clone(),
            version: r.version.clone(),
            api_version: r.api_version(),
            kind: r.kind.clone(),
            plural: r.plural.clone(),
        };
        let client = self.inner.client.clone();
        let api: Api<DynamicObject> = match ns {
            Some(ns) => Api::namespaced_with(client, ns, &resource),
            None => Api::all_with(client, &resource),
        };
        let condition = move |obj: Option<&DynamicObject>| {
            let value = obj.and_then(|o| serde_json::to_value(o).ok());
            settled(value.as_ref())
        };
        let found = kube::runtime::wait::await_condition(api, name, condition)
            .await
            .map_err(|e| KubeError::Transport {
                message: format!("watching {} {name}", r.plural),
                source: Box::new(e),
            })?;
        Ok(found.and_then(|o| serde_json::to_value(o).ok()))
    }
}
