/**
 * The line each value of a JSON text starts on, by path (["hosts", 1, "uri"] -> 7), so that a
 * file's validation errors can name the line to fix. JSON.parse gives values, not positions; this
 * walks text that JSON.parse has already accepted, so it needs no error handling of its own.
 */
export type JsonPath = ReadonlyArray<string | number>;

export function jsonValueLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) {
      if (text[i] === '\n') line++;
      i++;
    }
  };
  const readString = (): string => {
    const start = i;
    i++; // opening quote
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: Array<string | number>) => {
    skipSpace();
    lines.set(pathKey(path), line);
    const c = text[i];
    if (c === '{') {
      i++;
      skipSpace();
      if (text[i] === '}') return void i++;
      for (;;) {
        skipSpace();
        const key = readString();
        skipSpace();
        i++; // ':'
        value([...path, key]);
        skipSpace();
        if (text[i++] === '}') return;
      }
    }
    if (c === '[') {
      i++;
      skipSpace();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        value([...path, n]);
        skipSpace();
        if (text[i++] === ']') return;
      }
    }
    if (c === '"') return void readString();
    while (i < text.length && /[^\s,\]}]/.test(text[i]!)) i++; // number, true, false, null
  };
  value([]);
  return lines;
}

/** The line of the value at path, or of its nearest ancestor that exists (a missing field: its object's line). */
export function lineOf(lines: Map<string, number>, path: JsonPath): number {
  for (let n = path.length; n >= 0; n--) {
    const found = lines.get(pathKey(path.slice(0, n)));
    if (found !== undefined) return found;
  }
  return 1;
}

/** Whether the text has a value at path (a field the schema needs may be absent). */
export function hasValue(lines: Map<string, number>, path: JsonPath): boolean {
  return lines.has(pathKey(path));
}

/** hosts[1].uri; "(root)" for the whole document. */
export function formatJsonPath(path: JsonPath): string {
  const text = path.map((p, n) => (typeof p === 'number' ? `[${p}]` : n === 0 ? p : `.${p}`)).join('');
  return text || '(root)';
}

function pathKey(path: JsonPath): string {
  return JSON.stringify(path);
}
