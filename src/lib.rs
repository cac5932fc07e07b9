//! eksync: a GitOps reconciler for EKS. The pure core lives in [`core`]; adapters sit at the edge.
