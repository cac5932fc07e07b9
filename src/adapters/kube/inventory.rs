//! The inventory in the cluster: one ConfigMap per source, `eksync-inventory-<source>` in the
//! configured namespace (default `eksync-system`, created when missing), holds the identities of
//! the objects that source applied as JSON under the key `inventory.json`. Neither object carries the ownership label, so they never show
//! up in the managed set and are never pruned.
//!
//! It does not decide what goes into the inventory or what to prune (`core::kdiff::inventory` and
//! the executor). A ConfigMap holds at most 1 MiB: roughly 10,000 identities.

use http::Method;
use serde_json::{json, Value};

use crate::core::kdiff::Inventory;

use super::apply::ApplyOptions;
use super::client::{ApiCall, KubeAdapter};
use super::KubeError;

/// The inventory ConfigMaps' common prefix.
pub const INVENTORY_PREFIX: &str = "eksync-inventory";

/// The name of a source's inventory ConfigMap.
pub fn inventory_name(source: &str) -> String {
    format!("{INVENTORY_PREFIX}-{source}")
}
/// The data key holding the JSON.
const KEY: &str = "inventory.json";

impl KubeAdapter {
    /// The recorded inventory, or `None` when eksync never wrote one to this cluster.
    pub async fn read_inventory(&self) -> Result<Option<Inventory>, KubeError> {
        let ns = self.settings().inventory_namespace.clone();
        let name = inventory_name(&self.settings().source);
        let Some(cm) = self.get("v1", "ConfigMap", Some(&ns), &name).await? else {
            return Ok(None);
        };
        let corrupt = |message: String, source| KubeError::InventoryCorrupt {
            namespace: ns.clone(),
            name: name.clone(),
            message,
            source,
        };
        let text = cm
            .pointer("/data")
            .and_then(|d| d.get(KEY))
            .and_then(Value::as_str)
            .ok_or_else(|| corrupt(format!("no data key {KEY}"), None))?;
        serde_json::from_str(text)
            .map(Some)
            .map_err(|e| corrupt(format!("{KEY} is not an inventory"), Some(e)))
    }

    /// Records the inventory, creating the namespace when it is missing.
    pub async fn write_inventory(&self, inventory: &Inventory) -> Result<(), KubeError> {
        let ns = self.settings().inventory_namespace.clone();
        let labels = json!({"app.kubernetes.io/part-of": "eksync"});
        if self.get("v1", "Namespace", None, &ns).await?.is_none() {
            let body = json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": ns, "labels": labels}});
            self.call(&ApiCall {
                method: Method::POST,
                path: "/api/v1/namespaces".into(),
                query: vec![("fieldManager", crate::core::kdiff::FIELD_MANAGER.into())],
                body: Some((body.to_string().into_bytes(), "application/json")),
                resource: "namespaces".into(),
                secret: false,
            })
            .await
            .or_else(|e| match e {
                // Created by a concurrent run between the GET and the POST.
                KubeError::AlreadyExists { .. } => Ok(Value::Null),
                other => Err(other),
            })?;
        }
        let text = serde_json::to_string(inventory).map_err(|e| KubeError::Request {
            message: "encoding the inventory".to_string(),
            source: Box::new(e),
        })?;
        let cm = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": inventory_name(&self.settings().source), "namespace": ns, "labels": labels},
            "data": {KEY: text},
        });
        self.apply(
            &cm,
            ApplyOptions {
                dry_run: false,
                force: true,
            },
        )
        .await?;
        Ok(())
    }
}
