// The generated reference (`npm run docs`, typedoc.json) stays whole: each entry point is titled
// by the import path users write, every guide is in it, and every public export has a summary
// and (for values: functions, classes, constants) an @example.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { packageRoot } from './cli-helpers.js';

const typedoc = JSON.parse(readFileSync(join(packageRoot, 'typedoc.json'), 'utf8')) as {
  entryPoints: string[];
  projectDocuments: string[];
};
const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));

/**
 * The import path each entry point is published as, from package.json's `exports` (CommonJS
 * side): the entry itself, or a wrapper that is only `export = <the entry's export>` (typedoc
 * documents the entry, whose named exports it can show).
 */
function importPathOf(entry: string): string | undefined {
  for (const [subpath, target] of Object.entries<any>(pkg.exports)) {
    const cjs: string | undefined = typeof target === 'string' ? target : (target.require?.default ?? target.default);
    if (!cjs?.startsWith('./dist/cjs/')) continue;
    const source = cjs.replace(/^\.\/dist\/cjs\//, 'lib/').replace(/\.js$/, '.ts');
    if (source === entry) return `greenloop${subpath.slice(1)}`;
    const wrapper = readFileSync(join(packageRoot, source), 'utf8');
    const base = entry.replace(/^.*\//, '').replace(/\.ts$/, '');
    if (/^export = \w+;$/m.test(wrapper) && wrapper.includes(`from './${base}.js'`))
      return `greenloop${subpath.slice(1)}`;
  }
  return undefined;
}

const program = ts.createProgram(
  typedoc.entryPoints.map((e) => join(packageRoot, e)),
  { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true, skipLibCheck: true, types: ['node'] },
);
const checker = program.getTypeChecker();

/** Where each export of an entry lacks a summary or an example. */
function gaps(entry: string): string[] {
  const file = program.getSourceFile(join(packageRoot, entry))!;
  const found: string[] = [];
  for (const exported of checker.getExportsOfModule(checker.getSymbolAtLocation(file)!)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declaration = symbol.declarations?.[0];
    if (!declaration) continue;
    const where = `${entry}: ${exported.name} (${relative(packageRoot, declaration.getSourceFile().fileName)})`;
    const isValue = (symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable)) !== 0;
    // A function's TSDoc may sit on its first overload.
    const summary = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
    const tags = symbol.getJsDocTags(checker).map((t) => t.name);
    if (tags.includes('internal')) continue;
    if (summary === '') found.push(`${where}: no summary`);
    if (isValue && !tags.includes('example')) found.push(`${where}: no @example`);
  }
  return found;
}

describe('the generated reference', () => {
  it('titles each entry point by its import path (@module greenloop/...)', () => {
    const titles = typedoc.entryPoints.map((entry) => {
      const text = readFileSync(join(packageRoot, entry), 'utf8');
      return { entry, module: /^\s*\*\s*@module\s+(\S+)/m.exec(text)?.[1], importPath: importPathOf(entry) };
    });
    expect(titles.filter((t) => t.importPath === undefined || t.module !== t.importPath)).toEqual([]);
  });

  it('includes every guide in docs/, in a reading order that starts with getting started', () => {
    const guides = readdirSync(join(packageRoot, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`);
    expect([...typedoc.projectDocuments].sort()).toEqual(guides.sort());
    expect(typedoc.projectDocuments[0]).toBe('docs/getting-started.md');
  });

  it('gives every public export a summary, and every exported value an @example', () => {
    expect(typedoc.entryPoints.flatMap(gaps)).toEqual([]);
  });
});
