import { readFileSync } from "node:fs";
import t from "tap";
import { renderProtocolFiles } from "../scripts/protocol-files.js";
import { errorCodes } from "../src/protocol/errors.js";

t.test("protocol/ matches the code it is generated from (npm run gen:protocol)", async (t) => {
  for (const [name, content] of renderProtocolFiles()) {
    t.equal(readFileSync(new URL(`../protocol/${name}`, import.meta.url), "utf8"), content, `protocol/${name} is current`);
  }
});

t.test("every error code and reason is documented in the README", async (t) => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  for (const spec of Object.values(errorCodes)) {
    t.match(readme, String(spec.code), `README documents ${spec.code}`);
    for (const reason of Object.keys(spec.reasons)) t.match(readme, reason, `README documents reason ${reason}`);
  }
});
