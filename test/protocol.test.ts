import { readdirSync, readFileSync } from "node:fs";
import t from "tap";
import { renderProtocolFiles } from "../scripts/protocol-files.js";
import { replay, type Entry } from "../scripts/transcript.js";
import { errorCodes } from "../src/protocol/errors.js";
import { toolContracts } from "../src/protocol/tools/index.js";

const dir = new URL("../protocol/", import.meta.url);

t.test("protocol/ matches the code it is generated from (npm run gen:protocol)", async (t) => {
  const files = await renderProtocolFiles();
  for (const [name, content] of files) t.equal(readFileSync(new URL(name, dir), "utf8"), content, `protocol/${name} is current`);
  t.equal(files.size, toolContracts.length + 2 + readdirSync(new URL("examples/", dir)).length, "and nothing else is generated");
});

t.test("every transcript replays against a live daemon with the same replies (ids and times aside)", async (t) => {
  const transcripts = readdirSync(new URL("examples/", dir)).filter((f) => f.endsWith(".ndjson"));
  t.ok(transcripts.length >= 4);
  for (const file of transcripts) {
    const entries = readFileSync(new URL(`examples/${file}`, dir), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Entry);
    const problems = await replay(entries);
    t.same(problems, [], `${file}: ${entries.length} lines replayed`);
  }
});

t.test("a changed reply is caught by the replay", async (t) => {
  const entries = readFileSync(new URL("examples/core.ndjson", dir), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Entry);
  const tampered = entries.map((e, i) => (i === 1 ? { ...e, msg: { ...(e.msg as object), id: 999 } } : e));
  t.ok((await replay(tampered)).length > 0);
});

t.test("every error code and reason is documented in the README", async (t) => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  for (const spec of Object.values(errorCodes)) {
    t.match(readme, String(spec.code), `README documents ${spec.code}`);
    for (const reason of Object.keys(spec.reasons)) t.match(readme, reason, `README documents reason ${reason}`);
  }
});
