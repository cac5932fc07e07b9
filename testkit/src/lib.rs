//! Kubernetes API test server (see README). Placeholder until issue 3 lands.
