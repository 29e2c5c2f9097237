// Per-exchange verdicts of oav's traffic validation, for scripts/conformance.sh.
//
//   node scripts/oav-exchanges.js OAV_PACKAGE_DIR SPEC_DIR TRAFFIC_DIR OUT_JSON
//
// `oav validate-traffic` says whether a folder of exchanges passed and lists
// the errors, but its JSON report does not say which exchange each error came
// from, nor which exchanges matched no operation of the specs (it only counts
// them). This drives the same TrafficValidator class the command uses, one
// exchange at a time after a single spec load, and writes
//
//   [{"file": "00002-PUT-….json", "verdict": "passed" | "failed" | "undefined",
//     "operationId": "RouteTables_CreateOrUpdate", "errors": ["request: CODE: message", …]}]
//
// "undefined" = the request matched no operation in the specs. One at a time
// also means an exception in one exchange cannot end the run early, which the
// command's single loop would do silently.
//
// Written against oav 4.0.3 (scripts/ensure-oav.sh pins it); the class is
// internal to oav, so a new oav version needs this checked again.
"use strict";

const fs = require("fs");
const path = require("path");

async function main() {
  const [oavDir, specDir, trafficDir, outPath] = process.argv.slice(2);
  if (!outPath) {
    console.error("usage: oav-exchanges.js OAV_PACKAGE_DIR SPEC_DIR TRAFFIC_DIR OUT_JSON");
    process.exit(2);
  }
  const { TrafficValidator } = require(path.resolve(oavDir, "dist/lib/swaggerValidator/trafficValidator"));

  const validator = new TrafficValidator(specDir, trafficDir);
  await validator.initialize();
  const files = validator.trafficFiles.slice();

  const verdicts = [];
  for (const file of files) {
    validator.trafficFiles = [file];
    const resultsBefore = validator.trafficValidationResult.length;
    const undefinedBefore = validator.operationUndefinedResult;
    const entry = { file: path.basename(file), verdict: "passed", operationId: null, errors: [] };
    try {
      await validator.validate();
    } catch (e) {
      entry.errors.push(`exception: ${e && e.message}`);
    }
    for (const r of validator.trafficValidationResult.slice(resultsBefore)) {
      if (r.operationInfo) entry.operationId = r.operationInfo.operationId;
      for (const e of r.errors || []) entry.errors.push(`${e.issueSource}: ${e.code}: ${e.message}`);
      for (const e of r.runtimeExceptions || []) entry.errors.push(`runtime: ${e.code}: ${e.message}`);
    }
    if (!entry.operationId) {
      try {
        const payload = JSON.parse(fs.readFileSync(file, "utf8"));
        const op = await validator.liveValidator.getOperationInfo(payload.liveRequest);
        entry.operationId = (op && op.info && op.info.operationId) || null;
      } catch (e) {
        // Only a label for the summary; the verdict does not depend on it.
      }
    }
    if (entry.errors.length > 0) {
      entry.verdict = "failed";
    } else if (validator.operationUndefinedResult > undefinedBefore) {
      entry.verdict = "undefined";
    }
    verdicts.push(entry);
  }
  fs.writeFileSync(outPath, JSON.stringify(verdicts, null, 1));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
