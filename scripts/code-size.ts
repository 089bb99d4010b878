/**
 * The largest functions and files of the source folders (tests, fixtures and the lab guest
 * excluded), in lines: how the note's "largest function and file before/after" is measured.
 *   npx tsx scripts/code-size.ts [root]
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(process.argv[2] ?? '.');
const dirs = ['model', 'workflows', 'activities', 'worker', 'client', 'entry', 'lab'];
const files: string[] = [];
const walk = (d: string) => {
  if (!fs.existsSync(d)) return;
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) files.push(p);
  }
};
for (const d of dirs) walk(path.join(root, d));

const fns: Array<{ name: string; file: string; lines: number }> = [];
const sizes: Array<{ file: string; lines: number }> = [];
for (const f of files) {
  const text = fs.readFileSync(f, 'utf8');
  sizes.push({ file: path.relative(root, f), lines: text.split('\n').length });
  const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
  const visit = (n: ts.Node) => {
    if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n)) {
      const a = sf.getLineAndCharacterOfPosition(n.getStart()).line;
      const b = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
      const name = (n as ts.FunctionDeclaration).name?.getText() ?? (ts.isVariableDeclaration(n.parent) ? n.parent.name.getText() : '<anonymous>');
      fns.push({ name, file: path.relative(root, f), lines: b - a + 1 });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}
fns.sort((a, b) => b.lines - a.lines);
sizes.sort((a, b) => b.lines - a.lines);
console.log('largest functions:');
for (const x of fns.slice(0, 5)) console.log(`  ${x.lines}\t${x.name}\t${x.file}`);
console.log('largest files:');
for (const x of sizes.slice(0, 5)) console.log(`  ${x.lines}\t${x.file}`);
console.log(JSON.stringify({ largestFunction: fns[0], largestFile: sizes[0] }));
