import t from "tap";
import { LineFramer } from "../src/transport/framing.js";

function framer(max = 64) {
  const lines: string[] = [];
  const oversize: number[] = [];
  const f = new LineFramer(max, { line: (l) => lines.push(l), oversize: (b) => oversize.push(b) });
  return { f, lines, oversize };
}

t.test("splits on newlines across arbitrary chunk boundaries, one byte at a time included", async (t) => {
  const text = Buffer.from("héllo 😀\r\nwörld\n\n  \nlast\n", "utf8");
  for (const size of [1, 2, 3, 5, text.length]) {
    const { f, lines } = framer();
    for (let i = 0; i < text.length; i += size) f.push(text.subarray(i, i + size));
    t.same(lines, ["héllo 😀", "wörld", "last"], `chunks of ${size} bytes`);
  }
});

t.test("an oversized line is reported once as soon as it passes the limit, then framing resumes", async (t) => {
  const { f, lines, oversize } = framer(10);
  f.push(Buffer.from("ok\n0123456789AB"));
  t.same(oversize.length, 1, "reported before its newline arrived");
  f.push(Buffer.from("more of the same line"));
  f.push(Buffer.from(" still\nnext\n"));
  t.same(lines, ["ok", "next"]);
  t.equal(oversize.length, 1);
});

t.test("an oversized line that arrives whole in one chunk is refused too", async (t) => {
  const { f, lines, oversize } = framer(10);
  f.push(Buffer.from("01234567890123\nfine\n"));
  t.same(lines, ["fine"]);
  t.same(oversize, [14]);
});

t.test("a line of exactly the limit is accepted", async (t) => {
  const { f, lines, oversize } = framer(10);
  f.push(Buffer.from("0123456789\n"));
  t.same(lines, ["0123456789"]);
  t.same(oversize, []);
});

t.test("end() delivers a last line that had no newline", async (t) => {
  const { f, lines } = framer();
  f.push(Buffer.from('{"a":1}\n{"b":'));
  f.push(Buffer.from("2}"));
  f.end();
  t.same(lines, ['{"a":1}', '{"b":2}']);
});
