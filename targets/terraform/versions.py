"""Pinned versions of everything the generated Terraform installs or runs with.

Looked up in the public record (registry lock files, release notes, chart release tags) for the
newest release of each that had shipped; see the terraform target's report for the sources.
Exact pins: an upgrade is a reviewed change to this file, never a surprise on `init`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Ephemeral input variables need Terraform 1.10 and write-only attributes (`data_wo`) 1.11.
TERRAFORM_VERSION = ">= 1.11.0, < 2.0.0"


@dataclass(frozen=True)
class Provider:
    name: str  # the local name used in the configuration
    source: str
    version: str


KUBERNETES = Provider("kubernetes", "hashicorp/kubernetes", "3.1.0")
HELM = Provider("helm", "hashicorp/helm", "3.1.1")
RANDOM = Provider("random", "hashicorp/random", "3.9.1")
MINIO = Provider("minio", "aminueza/minio", "3.40.1")
RABBITMQ = Provider("rabbitmq", "cyrilgdn/rabbitmq", "1.10.1")
POSTGRESQL = Provider("postgresql", "cyrilgdn/postgresql", "1.26.0")


@dataclass(frozen=True)
class Chart:
    repository: str
    chart: str
    version: str


ARGO_CD = Chart("https://argoproj.github.io/argo-helm", "argo-cd", "10.9.1")  # Argo CD v3.5.3
KYVERNO = Chart("https://kyverno.github.io/kyverno/", "kyverno", "3.9.1")  # Kyverno v1.19.1
