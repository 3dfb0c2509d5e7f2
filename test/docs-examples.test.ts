// Every fenced example in README.md and docs/*.md runs, as a user would run it:
// from a project whose node_modules/greenloop is this package.
//
// What a block needs is said in an HTML comment on the line before it:
//   <!-- run: skip <reason> -->     not run (shell commands, file layouts); a reason is required
//   <!-- run: expect-output -->     the next ```console/```text block is its stdout (lines
//                                   starting with "$ " are the command; "..." matches any text,
//                                   "<n> ms" any number of ms)
//   <!-- run: expect-stderr -->     the same for stderr (its start: stderr may say more); without
//                                   it, stderr must stay empty
//   <!-- run: exit <n> -->          the exit status it must end with (default 0)
//   <!-- run: runner -->            run with `node -r greenloop/run` (what `npx greenloop` does)
//   <!-- run: file <name> <text> -->  a file it reads, made beside it
// Directives combine with ";". js blocks with import/export statements run as ES modules. ts
// blocks are typechecked (strict, against the package's own .d.ts) rather than run: Node 20
// cannot run TypeScript. examples/*.js run too, in their self-test mode.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject, packageRoot, runNode, type Run } from './cli-helpers.js';

/** One fenced block of a guide. */
interface Block {
  /** `file:line` of its opening fence. */
  where: string;
  lang: string;
  code: string;
  directives: Map<string, string>;
  /** The next console/text block after it (what an `expect-*` directive compares with). */
  shown?: string;
}

const runnable = new Set(['js', 'mjs', 'cjs', 'ts']);
// Languages that are not code to run, named so that a block with a typo'd or missing language
// cannot slip past unrun.
const notCode = new Set(['console', 'text', 'sh', 'json']);

function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(packageRoot, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, lang] = open as unknown as [string, string, string];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^\\s*\`\`\`\\s*$`).test(lines[j]!); j++) {
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    }
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    const directives = new Map<string, string>();
    const comment = /^\s*<!-- (run:|quick-start-script)\s*(.*?)\s*-->\s*$/.exec(lines[k] ?? '');
    if (comment?.[1] === 'quick-start-script') directives.set('runner', ''); // test/cli-concurrency.test.ts checks its output
    for (const part of comment?.[1] === 'run:' ? comment[2]!.split(';') : []) {
      const [, name, value] = /^\s*(\S+)\s*([\s\S]*?)\s*$/.exec(part)!;
      directives.set(name!, value!);
    }
    blocks.push({ where: `${file}:${i + 1}`, lang, code: `${body.join('\n')}\n`, directives });
    i = j;
  }
  for (let b = 0; b < blocks.length; b++) {
    const next = blocks.slice(b + 1).find((other) => other.lang === 'console' || other.lang === 'text');
    blocks[b]!.shown = next?.code;
  }
  return blocks;
}

const guides = [
  'README.md',
  ...readdirSync(join(packageRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const blocks = guides.flatMap(blocksOf);

/** Lines of a shown console block as patterns, without its "$ command" lines. */
function expectedLines(shown: string): RegExp[] {
  return shown
    .trimEnd()
    .split('\n')
    .filter((line) => !line.startsWith('$ '))
    .map((line) => {
      const pattern = line
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\\\.\\\.\\\./g, '.*')
        .replace(/\d+ ms/g, '\\d+ ms');
      return new RegExp(`^${pattern}$`);
    });
}

function expectShown(stream: string, shown: string | undefined, whole: boolean, diagnosis: string): void {
  expect(shown, `${diagnosis}\nno console block follows the example`).toBeTypeOf('string');
  const expected = expectedLines(shown!);
  const got = stream.trimEnd().split('\n');
  if (whole) expect(got.length, `${diagnosis}\nexpected ${expected.length} lines`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(got[i], diagnosis).toMatch(expected[i]!);
}

function describeRun(run: Run): string {
  return `exit status ${run.status}, signal ${run.signal}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

describe('fenced blocks in README.md and docs/*.md', () => {
  it('every block names its language, and every skip says why', () => {
    const unnamed = blocks
      .filter((b) => !runnable.has(b.lang) && !notCode.has(b.lang))
      .map((b) => `${b.where} (${b.lang || 'none'})`);
    expect(unnamed).toEqual([]);
    const silentSkips = blocks.filter((b) => b.directives.has('skip') && !b.directives.get('skip')).map((b) => b.where);
    expect(silentSkips).toEqual([]);
  });

  it('finds the examples (the parser works)', () => {
    expect(blocks.filter((b) => b.lang === 'js').length).toBeGreaterThan(20);
  });

  const toRun = blocks.filter((b) => runnable.has(b.lang) && b.lang !== 'ts' && !b.directives.has('skip'));
  for (const block of toRun) {
    it(`${block.where} runs`, () => {
      // Named as the shown command names it (`$ node worker.js`), so stack traces match the page.
      const compared = block.directives.has('expect-output') || block.directives.has('expect-stderr');
      const shownName = compared
        ? /^\$ node (?:-r greenloop\/run )?(\S+\.[cm]?js)\b/m.exec(block.shown ?? '')?.[1]
        : undefined;
      const esm = block.lang === 'mjs' || (block.lang === 'js' && /^(import|export)\s/m.test(block.code));
      const name = shownName ?? `example.${esm ? 'mjs' : block.lang === 'cjs' ? 'cjs' : 'js'}`;
      const files: Record<string, string> = { [name]: block.code };
      const file = block.directives.get('file');
      if (file !== undefined) {
        const [, fileName, text] = /^(\S+)\s+([\s\S]*)$/.exec(file)!;
        files[fileName!] = text!;
      }
      const dir = makeProject(files);
      const args = block.directives.has('runner') ? ['-r', 'greenloop/run', name] : [name];
      const run = runNode(dir, args, { timeoutMs: 30_000 });
      const diagnosis = `${block.where}\n${describeRun(run)}`;
      expect(run.signal, diagnosis).toBeNull();
      expect(run.status, diagnosis).toBe(Number(block.directives.get('exit') ?? 0));
      if (block.directives.has('expect-output')) expectShown(run.stdout, block.shown, true, diagnosis);
      if (block.directives.has('expect-stderr')) expectShown(run.stderr, block.shown, false, diagnosis);
      // Anything else on stderr (a greenlet's unjoined error, a LoopExit report, a warning) is a
      // fault the page does not show.
      else expect(run.stderr, diagnosis).toBe('');
    });
  }

  const typed = blocks.filter((b) => b.lang === 'ts' && !b.directives.has('skip'));
  it.runIf(typed.length > 0)(`the ${typed.length} TypeScript blocks typecheck against the package`, () => {
    const files: Record<string, string> = {
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'ESNext.Disposable'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(packageRoot, 'node_modules', '@types')],
          types: ['node'],
        },
        include: ['*.ts'],
      }),
    };
    // Each block is a module of its own (an ES module: greenloop's types resolve through `exports`).
    typed.forEach((b, i) => {
      files[`block${i}.ts`] = `${/^(import|export)\s/m.test(b.code) ? '' : 'export {};\n'}${b.code}`;
    });
    files['package.json'] = JSON.stringify({ type: 'module' });
    const dir = makeProject(files);
    let output = '';
    try {
      execFileSync(process.execPath, [join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
        encoding: 'utf8',
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
      output = output.replace(/\S*block(\d+)\.ts/g, (_, i: string) => typed[Number(i)]!.where);
    }
    expect(output).toBe('');
  });
});

describe('examples/*.js', () => {
  const examples = readdirSync(join(packageRoot, 'examples')).filter((f) => f.endsWith('.js'));
  it('require greenloop by its name, as users do', () => {
    for (const example of examples) {
      const text = readFileSync(join(packageRoot, 'examples', example), 'utf8');
      expect(text, example).not.toMatch(/require\(['"]\.\.?\//);
      expect(text, example).toMatch(/require\('greenloop(\/[a-z_]+)?'\)/);
    }
  });

  // What each prints once its work is done (an example that stopped half-way fails here).
  const finalWords: Record<string, RegExp> = {
    'chat-server.js': /alice sees: <bob> no callbacks anywhere[\s\S]*demo done/,
    'crawler.js': /crawled 60 pages in \d+ ms with 10 greenlets/,
    'demo.js': /\d[\d,]* switches between greenlets/,
    'echo-server.js': /client 4 says 0 \| client 4 says 1 \| client 4 says 2[\s\S]*self-check done/,
  };
  it('each has its final words listed here', () => expect(examples.sort()).toEqual(Object.keys(finalWords).sort()));

  for (const example of examples) {
    it(`${example} runs its self-test and exits`, () => {
      // From the repository, as its header says: `require('greenloop')` resolves to this package
      // by its own name (a package may require itself through its `exports`).
      const run = runNode(packageRoot, [join('examples', example), '0'], {
        env: { GREENLOOP_EXAMPLE_SELFTEST: '1' },
        timeoutMs: 60_000,
      });
      expect(run.signal, describeRun(run)).toBeNull();
      expect(run.status, describeRun(run)).toBe(0);
      expect(run.stdout, describeRun(run)).toMatch(finalWords[example] ?? /^$/);
    });
  }
});
