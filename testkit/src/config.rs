//! Server configuration: how the simulated controllers behave (recorded no-kubelet cluster or a
//! healthy one), which images fail, settle delays, watch history size and the address shown in
//! discovery.
//!
//! Only knobs live here; behaviour is in `controllers` and `api`.

use std::time::Duration;

/// How the simulated controllers make workloads progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ControllerMode {
    /// A cluster whose Pods run and become ready: Deployments, StatefulSets and DaemonSets become
    /// available, Jobs complete, LoadBalancer Services get an ingress hostname. The default,
    /// because reconcilers wait for these states.
    #[default]
    Healthy,
    /// The recorded cluster (no kubelet, no cloud controller): Pods never become ready, so
    /// Deployments stay `Available=False` with `unavailableReplicas`, rollouts stick after a
    /// template change, LoadBalancers stay without ingress. Used by the golden replay.
    Recorded,
}

/// Server options.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Controller behaviour.
    pub controller_mode: ControllerMode,
    /// Images (exact match, or prefix when ending with `*`) whose Pods never become ready: a
    /// Deployment using one never becomes Available, a Job using one fails.
    pub failing_images: Vec<String>,
    /// Delay before the controllers react to a write (`0`: they react before the next request
    /// is served).
    pub settle_delay: Duration,
    /// In `Healthy` mode, how long a new generation of a Deployment, StatefulSet, DaemonSet or
    /// Job takes before its Pods count as ready (default `0`: at once). The controllers act
    /// again by themselves when it has passed.
    pub rollout_delay: Duration,
    /// Number of events kept for watches from a resourceVersion; older versions get 410.
    pub watch_history: usize,
    /// `serverAddressByClientCIDRs` address in `/api`.
    pub server_address: String,
    /// Domain of LoadBalancer ingress hostnames in Healthy mode.
    pub load_balancer_domain: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            controller_mode: ControllerMode::default(),
            failing_images: Vec::new(),
            settle_delay: Duration::ZERO,
            rollout_delay: Duration::ZERO,
            watch_history: 10_000,
            server_address: "203.0.113.1:6443".into(),
            load_balancer_domain: "elb.us-east-1.amazonaws.com".into(),
        }
    }
}

impl ServerConfig {
    /// The configuration that reproduces the golden recordings.
    pub fn recorded() -> Self {
        ServerConfig {
            controller_mode: ControllerMode::Recorded,
            ..Default::default()
        }
    }

    /// True when the image is marked as failing.
    pub fn image_fails(&self, image: &str) -> bool {
        self.failing_images
            .iter()
            .any(|f| match f.strip_suffix('*') {
                Some(prefix) => image.starts_with(prefix),
                None => image == f,
            })
    }
}
