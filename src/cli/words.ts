import { UsageError } from "./format.js";

/**
 * A line split into words as a POSIX shell splits it, without expansions: blanks separate words; '…' keeps
 * everything as it is; "…" keeps everything but \" and \\; a backslash outside quotes keeps the next character.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === " " || c === "\t") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'" || c === '"') {
      const end = closing(line, i, c);
      const inner = line.slice(i + 1, end);
      word += c === "'" ? inner : inner.replace(/\\(["\\])/g, "$1");
      i = end;
    } else if (c === "\\" && i + 1 < line.length) word += line[++i];
    else word += c;
  }
  if (inWord) words.push(word);
  return words;
}

/** Where the quote opened at `start` closes (in "…", not at an escaped \"). */
function closing(line: string, start: number, quote: string): number {
  for (let i = start + 1; i < line.length; i++) {
    if (quote === '"' && line[i] === "\\") i++;
    else if (line[i] === quote) return i;
  }
  throw new UsageError(`the ${quote === "'" ? "single" : "double"} quote opened at column ${start + 1} is not closed`);
}
