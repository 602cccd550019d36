"""Run Kyverno ClusterPolicy `validate.cel` rules in Python, the way Kyverno runs them.

Two real CEL engines: celpy (cel-python, InterpretedRunner) and, where it installs, cel-cpp
(cel-expr-python). Neither ships the Kubernetes CEL libraries, so `k8s_quantity` provides the
Quantity library of k8s.io/apiserver/pkg/cel/library/quantity.go for both.
"""
