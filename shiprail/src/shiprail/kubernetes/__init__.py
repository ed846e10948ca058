"""Kubernetes: render the Helm chart for every environment and check it as strictly as a
cluster would (Helm, the Kubernetes schemas, the CRD schemas, checkov and the same Rego
policies Gatekeeper enforces at admission), because no cluster is reachable where CI runs."""
