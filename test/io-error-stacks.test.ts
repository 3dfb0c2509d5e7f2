import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastJson, runFixture, type FixtureRun } from './helpers.js';

const FIXTURE = 'io-error-stacks.js';
const source = readFileSync(join(__dirname, 'fixtures', FIXTURE), 'utf8').split('\n');

/** The 1-based line of the fixture marked `// CALL <kind>`. */
function callLine(kind: string): number {
  const at = source.findIndex((line) => line.endsWith(`// CALL ${kind}`));
  if (at < 0) throw new Error(`no CALL ${kind} marker in ${FIXTURE}`);
  return at + 1;
}

interface Caught {
  kind: string;
  threw: boolean;
  stack: string;
  message: string;
  code: string;
  errno: number;
  syscall: string;
}

describe('IO errors show the caller of the blocking call', () => {
  let run: FixtureRun | undefined;
  const results = (): Caught[] =>
    lastJson<{ results: Caught[] }>((run ??= runFixture(FIXTURE, [], [], 60_000))).results;
  const expected: Record<string, { code: string; syscall: string; errno: number }> = {
    readFile: { code: 'ENOENT', syscall: 'open', errno: -2 },
    connect: { code: 'ECONNREFUSED', syscall: 'connect', errno: -111 },
    request: { code: 'ECONNREFUSED', syscall: 'connect', errno: -111 },
    run: { code: 'ENOENT', syscall: 'spawn /nonexistent/greenloop-program', errno: -2 },
    spawn: { code: 'ENOENT', syscall: 'spawn /nonexistent/greenloop-program', errno: -2 },
    listen: { code: 'EADDRINUSE', syscall: 'listen', errno: -98 },
  };

  for (const [kind, shape] of Object.entries(expected)) {
    it(`${kind}: ${shape.code} has the user's file:line as its first frame, Node's frames only after the marker`, () => {
      const result = results().find((r) => r.kind === kind);
      expect(result?.threw, `${kind} should have thrown`).toBe(true);
      const { stack } = result!;
      expect({ code: result!.code, syscall: result!.syscall, errno: result!.errno }).toEqual(shape);
      const lines = stack.split('\n');
      expect(lines[0]).toBe(`Error: ${result!.message}`);
      const firstFrame = lines.find((line) => /^\s+at /.test(line));
      expect(firstFrame, stack).toContain(`${FIXTURE}:${callLine(kind)}:`);
      const marker = lines.findIndex((line) => line.includes('--- the error was made in:'));
      const userPart = marker < 0 ? lines : lines.slice(0, marker);
      expect(
        userPart.some((line) => line.includes('node:')),
        stack,
      ).toBe(false);
      // greenloop's own frames are left out
      expect(
        userPart.some((line) => /[/\\](dist|lib)[/\\](cjs[/\\])?(io|hub|api)[/\\]/.test(line)),
        stack,
      ).toBe(false);
    });
  }

  it("the unjoined-error report for fs.readFile's ENOENT names the user's line", () => {
    results();
    expect(run!.stderr).toContain('nobody joined it');
    expect(run!.stderr).toContain(`${FIXTURE}:${callLine('unjoined')}:`);
  });
});
