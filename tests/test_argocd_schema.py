"""A JSON Schema for the subset of Argo CD's v1alpha1 API (v3) that gpc emits, and proof it bites.

No Python models of Argo CD's CRDs exist (research/toolchain.md §7) and the upstream CRDs allow
unknown fields, so this schema is hand-written from the CRDs (manifests/crds/*-crd.yaml) and the
sync-options documentation: the required fields and enums of the real CRDs, and
`additionalProperties: false` everywhere, so a misspelled field is an error instead of silently
ignored by the API server.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

API_VERSION = "argoproj.io/v1alpha1"

# Application-level sync options Argo CD knows (docs/user-guide/sync-options.md). Resource-level
# only options (Prune=false, Delete=false, ...) are not valid in an Application's syncPolicy.
KNOWN_SYNC_OPTIONS = [
    "Validate=false", "Validate=true",
    "SkipDryRunOnMissingResource=true",
    "PruneLast=true",
    "ApplyOutOfSyncOnly=true",
    "PrunePropagationPolicy=foreground", "PrunePropagationPolicy=background", "PrunePropagationPolicy=orphan",
    "Replace=true", "Force=true",
    "ServerSideApply=true", "ServerSideApply=false",
    "FailOnSharedResource=true",
    "RespectIgnoreDifferences=true",
    "CreateNamespace=true",
]
FINALIZERS = [
    "resources-finalizer.argocd.argoproj.io",
    "resources-finalizer.argocd.argoproj.io/background",
    "post-delete-finalizer.argocd.argoproj.io",
]
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


STRING = {"type": "string"}
NONEMPTY = {"type": "string", "minLength": 1}
BOOL = {"type": "boolean"}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
GROUP_KIND = _obj({"group": STRING, "kind": NONEMPTY}, ["group", "kind"])

DEFS: dict[str, Any] = {
    "metadata": _obj({
        "name": {"type": "string", "pattern": DNS_SUBDOMAIN, "maxLength": 253},
        "namespace": NONEMPTY,
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
        "finalizers": {"type": "array", "items": {"enum": FINALIZERS}, "uniqueItems": True},
    }, ["name", "namespace"]),
    "templateMetadata": _obj({
        "name": NONEMPTY, "namespace": STRING, "labels": STRING_MAP, "annotations": STRING_MAP,
        "finalizers": {"type": "array", "items": {"enum": FINALIZERS}, "uniqueItems": True},
    }),
    "source": _obj({
        "repoURL": NONEMPTY,
        "targetRevision": STRING,
        "path": STRING,
        "chart": STRING,
        "directory": _obj({"recurse": BOOL, "exclude": STRING, "include": STRING}),
        "kustomize": _obj({
            "namespace": STRING,
            "images": {"type": "array", "items": NONEMPTY},
            "patches": {"type": "array", "items": _obj({
                "target": _obj({"group": STRING, "version": STRING, "kind": STRING, "name": STRING}),
                "patch": NONEMPTY, "path": STRING})},
        }),
        "helm": _obj({
            "releaseName": STRING,
            "valuesObject": {"type": "object"},  # the chart's values: checked by the chart tests
            "valueFiles": {"type": "array", "items": STRING},
            "skipCrds": BOOL,
            "version": STRING,
        }),
    }, ["repoURL"]),
    "destination": _obj({"server": NONEMPTY, "namespace": STRING, "name": STRING}),
    "syncPolicy": _obj({
        "automated": _obj({"prune": BOOL, "selfHeal": BOOL, "allowEmpty": BOOL, "enabled": BOOL}),
        "syncOptions": {"type": "array", "items": {"enum": KNOWN_SYNC_OPTIONS}, "uniqueItems": True},
        "retry": _obj({
            "limit": {"type": "integer"},
            "backoff": _obj({"duration": NONEMPTY, "factor": {"type": "integer", "minimum": 1},
                             "maxDuration": NONEMPTY}),
        }),
    }),
    "applicationSpec": _obj({
        "project": NONEMPTY,
        "source": {"$ref": "#/$defs/source"},
        "destination": {"$ref": "#/$defs/destination"},
        "syncPolicy": {"$ref": "#/$defs/syncPolicy"},
        # Argo CD's ResourceIgnoreDifferences (argoproj.io/v1alpha1 types.go).
        "ignoreDifferences": {"type": "array", "items": _obj({
            "group": STRING, "kind": NONEMPTY, "name": STRING, "namespace": STRING,
            "jsonPointers": {"type": "array", "items": NONEMPTY},
            "jqPathExpressions": {"type": "array", "items": NONEMPTY},
            "managedFieldsManagers": {"type": "array", "items": NONEMPTY},
        }, ["kind"])},
    }, ["destination", "project"]),
}

APPLICATION = _obj({
    "apiVersion": {"const": API_VERSION},
    "kind": {"const": "Application"},
    "metadata": {"$ref": "#/$defs/metadata"},
    "spec": {"$ref": "#/$defs/applicationSpec"},
}, ["apiVersion", "kind", "metadata", "spec"])

APPLICATION_SET = _obj({
    "apiVersion": {"const": API_VERSION},
    "kind": {"const": "ApplicationSet"},
    "metadata": {"$ref": "#/$defs/metadata"},
    "spec": _obj({
        "goTemplate": BOOL,
        "goTemplateOptions": {"type": "array", "items": {"enum": [
            "missingkey=error", "missingkey=zero", "missingkey=default", "missingkey=invalid"]}},
        "generators": {"type": "array", "minItems": 1, "items": _obj({
            "list": _obj({"elements": {"type": "array", "items": {"type": "object"}}}, ["elements"]),
            # previews (targets/argocd/preview.py): the GitHub pull-request generator
            "pullRequest": _obj({
                "github": _obj({"owner": NONEMPTY, "repo": NONEMPTY, "api": STRING, "appSecretName": STRING,
                                "tokenRef": _obj({"secretName": NONEMPTY, "key": NONEMPTY}, ["secretName", "key"]),
                                "labels": {"type": "array", "items": NONEMPTY}}, ["owner", "repo"]),
                "requeueAfterSeconds": {"type": "integer", "minimum": 0},
            }),
        })},
        "syncPolicy": _obj({
            "preserveResourcesOnDeletion": BOOL,
            "applicationsSync": {"enum": ["create-only", "create-update", "create-delete", "sync"]},
        }),
        "template": _obj({
            "metadata": {"$ref": "#/$defs/templateMetadata"},
            "spec": {"$ref": "#/$defs/applicationSpec"},
        }, ["metadata", "spec"]),
    }, ["generators", "template"]),
}, ["apiVersion", "kind", "metadata", "spec"])

APP_PROJECT = _obj({
    "apiVersion": {"const": API_VERSION},
    "kind": {"const": "AppProject"},
    "metadata": {"$ref": "#/$defs/metadata"},
    "spec": _obj({
        "description": STRING,
        "sourceRepos": {"type": "array", "items": NONEMPTY, "uniqueItems": True},
        "destinations": {"type": "array", "items": _obj({"server": STRING, "namespace": STRING, "name": STRING})},
        "clusterResourceWhitelist": {"type": "array", "items": GROUP_KIND},
        "clusterResourceBlacklist": {"type": "array", "items": GROUP_KIND},
        "namespaceResourceWhitelist": {"type": "array", "items": GROUP_KIND},
        "namespaceResourceBlacklist": {"type": "array", "items": GROUP_KIND},
        "orphanedResources": _obj({
            "warn": BOOL,
            "ignore": {"type": "array", "items": _obj({"group": STRING, "kind": STRING, "name": STRING})},
        }),
        # ProjectRole (argoproj.io/v1alpha1): name required; policies are Casbin lines.
        "roles": {"type": "array", "items": _obj({
            "name": NONEMPTY,
            "description": STRING,
            "policies": {"type": "array", "items": {"type": "string", "pattern": r"^p, proj:[^:]+:[^,]+, "}},
            "groups": {"type": "array", "items": NONEMPTY},
        }, ["name"])},
    }),
}, ["apiVersion", "kind", "metadata", "spec"])

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$defs": DEFS,
    "oneOf": [APPLICATION, APPLICATION_SET, APP_PROJECT],
}


KIND_SCHEMAS = {"Application": APPLICATION, "ApplicationSet": APPLICATION_SET, "AppProject": APP_PROJECT}


def errors(document: Any) -> list[str]:
    """Every schema violation of one document, as `path: message` (validated against its kind's branch,
    so the messages name the offending field instead of "not valid under any of the given schemas")."""
    import jsonschema

    kind = document.get("kind") if isinstance(document, dict) else None
    if kind not in KIND_SCHEMAS:
        return [f"kind: {kind!r} is not one of {sorted(KIND_SCHEMAS)}"]
    validator = jsonschema.Draft202012Validator({**KIND_SCHEMAS[kind], "$defs": DEFS})
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '.'}: {e.message}" for e in validator.iter_errors(document)]


# -- the schema itself: valid documents pass, each kind of mistake is caught ------------------

GOOD_APP: dict[str, Any] = {
    "apiVersion": API_VERSION, "kind": "Application",
    "metadata": {"name": "p-dev-x", "namespace": "argocd", "finalizers": [FINALIZERS[0]]},
    "spec": {
        "project": "p-dev",
        "source": {"repoURL": "https://example.com/r.git", "targetRevision": "main", "path": "out/x"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "p-dev-services"},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["PruneLast=true"],
                       "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}},
    },
}


def _mutated(path: list[str | int], value: Any, delete: bool = False) -> dict[str, Any]:
    doc = copy.deepcopy(GOOD_APP)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def test_a_good_application_is_valid() -> None:
    import jsonschema

    assert errors(GOOD_APP) == []
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert jsonschema.Draft202012Validator(SCHEMA).is_valid(GOOD_APP)


@pytest.mark.parametrize(("path", "value", "delete", "expected"), [
    (["spec", "syncPolicy", "automated", "selfheal"], True, False, "Additional properties"),
    (["spec", "sourc"], {}, False, "Additional properties"),
    (["spec", "project"], None, True, "'project' is a required property"),
    (["spec", "destination"], None, True, "'destination' is a required property"),
    (["spec", "source", "repoURL"], None, True, "'repoURL' is a required property"),
    (["spec", "syncPolicy", "syncOptions"], ["PruneLast=yes"], False, "is not one of"),
    (["spec", "syncPolicy", "retry", "limit"], "5", False, "is not of type 'integer'"),
    (["metadata", "finalizers"], ["argocd.argoproj.io/finalizer"], False, "is not one of"),
    (["metadata", "name"], "Bad_Name", False, "does not match"),
    (["kind"], "Applicaton", False, "is not one of"),
])
def test_the_schema_rejects(path: list[str | int], value: Any, delete: bool, expected: str) -> None:
    found = errors(_mutated(path, value, delete))
    assert any(expected in e for e in found), found


def test_applicationset_enums_are_enforced() -> None:
    appset: dict[str, Any] = {
        "apiVersion": API_VERSION, "kind": "ApplicationSet", "metadata": {"name": "s", "namespace": "argocd"},
        "spec": {"goTemplate": True, "goTemplateOptions": ["missingkey=error"],
                 "generators": [{"list": {"elements": [{"a": "b"}]}}],
                 "syncPolicy": {"applicationsSync": "create-only"},
                 "template": {"metadata": {"name": "{{ .a }}"}, "spec": GOOD_APP["spec"]}},
    }
    assert errors(appset) == []
    appset["spec"]["syncPolicy"]["applicationsSync"] = "upsert"
    assert any("is not one of" in e for e in errors(appset))
    del appset["spec"]["template"]
    assert any("'template' is a required property" in e for e in errors(appset))
