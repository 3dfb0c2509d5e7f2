import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GreenletError, spawn } from '../lib/index.js';
import { LineTooLongError } from '../lib/errors.js';
import * as fs from '../lib/io/fs.js';
import { fixtureSummary } from './helpers.js';
import { green, greenError, tempDir } from './io-helpers.js';

describe('green fs', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.cleanup());

  it('outside a spawned greenlet a call throws GreenletError', () => {
    expect(() => fs.readFile(join(dir.path, 'x'))).toThrow(GreenletError);
  });

  it('writeFile, appendFile and readFile round-trip text and bytes', async () => {
    const file = join(dir.path, 'a.txt');
    const result = await green(() => {
      fs.writeFile(file, 'hello ');
      fs.appendFile(file, 'world');
      return [fs.readFile(file, 'utf8'), fs.readFile(file)] as const;
    });
    expect(result[0]).toBe('hello world');
    expect(Buffer.isBuffer(result[1])).toBe(true);
    expect(result[1].toString()).toBe('hello world');
  });

  it('mkdir, readdir, stat, lstat, rename, copyFile, access, exists, rm', async () => {
    const out = await green(() => {
      fs.mkdir(join(dir.path, 'sub/deeper'), { recursive: true });
      fs.writeFile(join(dir.path, 'sub/one'), '1');
      fs.copyFile(join(dir.path, 'sub/one'), join(dir.path, 'sub/two'));
      fs.rename(join(dir.path, 'sub/two'), join(dir.path, 'sub/three'));
      fs.symlink(join(dir.path, 'sub/one'), join(dir.path, 'sub/link'));
      const names = fs.readdir(join(dir.path, 'sub')).sort();
      const dirents = fs.readdir(join(dir.path, 'sub'), { withFileTypes: true });
      const size = fs.stat(join(dir.path, 'sub/three')).size;
      const isLink = fs.lstat(join(dir.path, 'sub/link')).isSymbolicLink();
      const target = fs.readlink(join(dir.path, 'sub/link'));
      fs.access(join(dir.path, 'sub/one'));
      const before = fs.exists(join(dir.path, 'sub'));
      fs.rm(join(dir.path, 'sub'), { recursive: true });
      const after = fs.exists(join(dir.path, 'sub'));
      return {
        names,
        dirs: dirents.filter((d) => d.isDirectory()).map((d) => d.name),
        size,
        isLink,
        target,
        before,
        after,
      };
    });
    expect(out).toEqual({
      names: ['deeper', 'link', 'one', 'three'],
      dirs: ['deeper'],
      size: 1,
      isLink: true,
      target: join(dir.path, 'sub/one'),
      before: true,
      after: false,
    });
  });

  it("Node's errors (ENOENT) are thrown in the calling greenlet", async () => {
    const error = await greenError(() => fs.readFile(join(dir.path, 'missing.txt')));
    expect(error.code).toBe('ENOENT');
    expect(error.syscall).toBe('open');
    const error2 = await greenError(() => fs.access(join(dir.path, 'missing.txt')));
    expect(error2.code).toBe('ENOENT');
  });

  it('open/read/write/close work on descriptors', async () => {
    const file = join(dir.path, 'fd.bin');
    const out = await green(() => {
      const fd = fs.open(file, 'w+');
      const n1 = fs.write(fd, Buffer.from('0123456789'));
      const n2 = fs.write(fd, 'abc', 10);
      const buffer = Buffer.alloc(20);
      const n3 = fs.read(fd, buffer, 0, 20, 0);
      const size = fs.fstat(fd).size;
      fs.close(fd);
      return { n1, n2, n3, text: buffer.subarray(0, n3).toString(), size };
    });
    expect(out).toEqual({ n1: 10, n2: 3, n3: 13, text: '0123456789abc', size: 13 });
  });

  it('readLines streams a large file line by line and closes it on early exit', async () => {
    const file = join(dir.path, 'big.txt');
    const count = 100_000;
    nodeFs.writeFileSync(file, Array.from({ length: count }, (_, i) => `line ${i}`).join('\n') + '\n');
    const out = await green(() => {
      let n = 0;
      let last = '';
      for (const line of fs.readLines(file, { highWaterMark: 4096 })) {
        n++;
        last = line;
      }
      const firstThree: string[] = [];
      for (const line of fs.readLines(file)) {
        firstThree.push(line);
        if (firstThree.length === 3) break;
      }
      return { n, last, firstThree };
    });
    expect(out).toEqual({ n: count, last: `line ${count - 1}`, firstThree: ['line 0', 'line 1', 'line 2'] });
  });

  it('readLines throws LineTooLongError for a line over maxLength', async () => {
    const file = join(dir.path, 'long.txt');
    nodeFs.writeFileSync(file, `${'q'.repeat(10_000)}\nshort\n`);
    const error = await greenError(() => [...fs.readLines(file, { maxLength: 1000 })]);
    expect(error).toBeInstanceOf(LineTooLongError);
  });

  it('while one greenlet waits on the file system, others run', async () => {
    const order: string[] = [];
    const file = join(dir.path, 'c.txt');
    nodeFs.writeFileSync(file, 'x'.repeat(1 << 20));
    const reader = green(() => {
      order.push('read start');
      const data = fs.readFile(file);
      order.push('read done');
      return data.length;
    });
    spawn(() => order.push('other greenlet'));
    expect(await reader).toBe(1 << 20);
    expect(order.indexOf('other greenlet')).toBeLessThan(order.indexOf('read done'));
    expect(order.indexOf('read start')).toBeLessThan(order.indexOf('read done'));
  });

  it('many greenlets write and read their own files concurrently', async () => {
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        green(() => {
          const file = join(dir.path, `f${i}`);
          fs.writeFile(file, `content ${i}`);
          return fs.readFile(file, 'utf8');
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => `content ${i}`));
  });
});

describe('green fs with bad arguments', () => {
  it('every call throws to its caller, naming the argument, as its fs.*Sync twin does (never crashes)', () => {
    // In a child process: before the fix fs.readFile(-1) ended the process with an uncaught RangeError.
    const out = fixtureSummary('io-fs-bad-input.js');
    const named: Record<string, [code: string, argument: string]> = {
      'readFile(-1)': ['ERR_OUT_OF_RANGE', '"fd"'],
      'readFile(-1, "utf8")': ['ERR_OUT_OF_RANGE', '"fd"'],
      'readFile(2.5)': ['ERR_OUT_OF_RANGE', '"fd"'],
      'readFile(closed fd)': ['EBADF', 'fstat'],
      'readFile()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'readFile(fd, 5)': ['ERR_INVALID_ARG_TYPE', '"options"'],
      'readFile(fd, "nope")': ['ERR_INVALID_ARG_VALUE', '"encoding"'],
      'writeFile(-1)': ['ERR_OUT_OF_RANGE', '"fd"'],
      'appendFile(-1)': ['ERR_OUT_OF_RANGE', '"fd"'],
      'fstat(-1)': ['ERR_OUT_OF_RANGE', '"fd"'],
      'fstat()': ['ERR_INVALID_ARG_TYPE', '"fd"'],
      'close(-1)': ['ERR_OUT_OF_RANGE', '"fd"'],
      'read(-1)': ['ERR_OUT_OF_RANGE', '"fd"'],
      'read(fd)': ['ERR_INVALID_ARG_TYPE', '"buffer"'],
      'write(-1)': ['ERR_OUT_OF_RANGE', '"fd"'],
      'stat()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'lstat()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'readdir()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'mkdir()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'mkdtemp()': ['ERR_INVALID_ARG_TYPE', '"prefix"'],
      'rm()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'unlink()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'rename()': ['ERR_INVALID_ARG_TYPE', '"oldPath"'],
      'copyFile()': ['ERR_INVALID_ARG_TYPE', '"src"'],
      'access()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'realpath()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'truncate()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'chmod()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'symlink()': ['ERR_INVALID_ARG_TYPE', '"target"'],
      'readlink()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'open()': ['ERR_INVALID_ARG_TYPE', '"path"'],
      'readLines()': ['ERR_INVALID_ARG_TYPE', '"path"'],
    };
    for (const [call, [code, argument]] of Object.entries(named)) {
      expect(out[call], call).toMatchObject({ code });
      expect(out[call].message, call).toContain(argument);
      expect(out[call].message, call).not.toContain('"cb"');
    }
    expect(out['readLines(path, null)'].message).toBe('options must be an object, got null');
  });

  it("readFile(fd) reads from the descriptor's position to its end, like readFileSync", async () => {
    const dir = tempDir();
    const file = join(dir.path, 'fd.txt');
    nodeFs.writeFileSync(file, 'skip:' + 'x'.repeat(200_000));
    const out = await green(() => {
      const fd = fs.open(file);
      try {
        fs.read(fd, Buffer.alloc(5));
        return [fs.readFile(fd, 'utf8'), fs.readFile(fd, { encoding: 'utf8' })];
      } finally {
        fs.close(fd);
      }
    });
    dir.cleanup();
    expect(out).toEqual(['x'.repeat(200_000), '']);
  });
});
