// Validates custom resources against the CRD schemas of the @kubernetes-models packages (ajv,
// generated from the CRDs' OpenAPI schemas). Reads a JSON array of objects on stdin; prints a JSON
// array of "<index> <kind> <name>: <error>" strings (empty when every object is valid).
// The schemas allow unknown keys, as the CRDs do: tests/crd_models.py adds a strict check through
// the packages' TypeScript typings.
import fs from "node:fs";

// "<apiVersion> <kind>" -> the module that exports the model class of that kind.
const MODULES = {
  "argoproj.io/v1alpha1 Application": "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application",
  "argoproj.io/v1alpha1 ApplicationSet": "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet",
  "argoproj.io/v1alpha1 AppProject": "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject",
  "gateway.networking.k8s.io/v1 Gateway": "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway",
  "gateway.networking.k8s.io/v1 HTTPRoute": "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute",
  "cert-manager.io/v1 Certificate": "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate",
  "keda.sh/v1alpha1 ScaledObject": "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject",
  "keda.sh/v1alpha1 TriggerAuthentication": "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication",
  "external-secrets.io/v1 ExternalSecret": "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret",
  "external-secrets.io/v1 ClusterSecretStore":
    "@kubernetes-models/external-secrets/external-secrets.io/v1/ClusterSecretStore",
  "generators.external-secrets.io/v1alpha1 Password":
    "@kubernetes-models/external-secrets/generators.external-secrets.io/v1alpha1/Password",
  "monitoring.coreos.com/v1 ServiceMonitor": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
  "monitoring.coreos.com/v1 PodMonitor": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor",
  "monitoring.coreos.com/v1 PrometheusRule": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule",
  "monitoring.coreos.com/v1alpha1 AlertmanagerConfig": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig",
};

const documents = JSON.parse(fs.readFileSync(0, "utf8"));
const errors = [];
for (const [index, doc] of documents.entries()) {
  const where = `${index} ${doc.kind} ${doc.metadata?.name}`;
  const module = MODULES[`${doc.apiVersion} ${doc.kind}`];
  if (module === undefined) {
    errors.push(`${where}: not a kind this validator knows`);
    continue;
  }
  const Model = (await import(module))[doc.kind];
  try {
    new Model(doc).validate();
  } catch (error) {
    errors.push(`${where}: ${error.message}`);
  }
}
process.stdout.write(JSON.stringify(errors));
