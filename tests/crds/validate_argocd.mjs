// Validates Argo CD objects against the CRD schemas of @kubernetes-models/argo-cd (ajv, generated
// from the CRDs' OpenAPI schemas). Reads a JSON array of objects on stdin; prints a JSON array of
// "<index> <kind> <name>: <error>" strings (empty when every object is valid).
// The schemas allow unknown keys, as the CRDs do: tests/test_contract_rollout.py adds a strict
// check through the package's TypeScript typings.
import fs from "node:fs";
import { Application, ApplicationSet, AppProject } from "@kubernetes-models/argo-cd/argoproj.io/v1alpha1";

const MODELS = { Application, ApplicationSet, AppProject };
const documents = JSON.parse(fs.readFileSync(0, "utf8"));
const errors = [];
documents.forEach((doc, index) => {
  const where = `${index} ${doc.kind} ${doc.metadata?.name}`;
  const Model = MODELS[doc.kind];
  if (Model === undefined) {
    errors.push(`${where}: not an Argo CD kind this validator knows`);
    return;
  }
  try {
    new Model(doc).validate();
  } catch (error) {
    errors.push(`${where}: ${error.message}`);
  }
});
process.stdout.write(JSON.stringify(errors));
