import { errorCodes } from "../src/protocol/errors.js";

/**
 * Renders the published protocol/ folder from the code. `npm run gen:protocol` writes these files; a test and
 * `npm run gen:protocol -- --check` fail when the checked-in copies are stale.
 */
export function renderProtocolFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const errors = Object.entries(errorCodes).map(([name, spec]) => ({
    name,
    code: spec.code,
    message: spec.message,
    description: spec.description,
    reasons: spec.reasons,
  }));
  files.set("errors.json", JSON.stringify({ errors }, null, 2) + "\n");
  return files;
}
