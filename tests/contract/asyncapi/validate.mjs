// Parses an AsyncAPI document with the official parser and fails on any error diagnostic; warnings are printed.
import { readFileSync } from 'node:fs';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const path = process.argv[2];
if (!path) {
  console.error('usage: node validate.mjs ASYNCAPI.json');
  process.exit(2);
}
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(path, 'utf8'), { source: path });
const label = { [DiagnosticSeverity.Error]: 'error', [DiagnosticSeverity.Warning]: 'warning' };
for (const d of diagnostics) {
  console.log(`${label[d.severity] ?? 'info'}: ${d.code}: ${d.message} at ${d.path.join('.')}`);
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
if (errors.length > 0 || !document) {
  console.error(`${path}: ${errors.length} error(s)`);
  process.exit(1);
}
console.log(
  `${path}: AsyncAPI ${document.version()}, ${document.messages().length} messages, ` +
    `${document.operations().length} operations, ${diagnostics.length - errors.length} other diagnostics, 0 errors`,
);
