import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv, readLabeledCsv, toLabeledExamples } from './csv.js';
import { ClassifierError } from './errors.js';

describe('parseCsv', () => {
  it('reads quoted fields with commas, escaped quotes and line breaks', () => {
    const rows = parseCsv('a,b,c\r\n"x, y","say ""hi""","line1\r\nline2\nline3"\r\n');
    expect(rows).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'line1\r\nline2\nline3'],
    ]);
  });

  it('strips a UTF-8 BOM and accepts LF, CRLF and a missing final newline', () => {
    expect(parseCsv('\uFEFFh1,h2\nv1,v2\r\nv3,v4')).toEqual([
      ['h1', 'h2'],
      ['v1', 'v2'],
      ['v3', 'v4'],
    ]);
  });

  it('keeps empty fields, drops blank lines', () => {
    expect(parseCsv('a,b\n,\n\n"",x\n')).toEqual([
      ['a', 'b'],
      ['', ''],
      ['', 'x'],
    ]);
  });

  it('keeps a stray quote inside an unquoted field as text', () => {
    expect(parseCsv('a\n5" screen\n')).toEqual([['a'], ['5" screen']]);
  });

  it('fails loudly on an unterminated quoted field', () => {
    expect(() => parseCsv('a,b\n"open,1\n')).toThrow(
      /unterminated quoted field starting on line 2/,
    );
  });
});

describe('toLabeledExamples', () => {
  const rows = parseCsv('Subject,body,queue\nHi,"Body, text",Billing\nNo label,x,\nA,,IT\n');

  it('joins text columns with a space and skips rows without a label', () => {
    const { examples, skipped } = toLabeledExamples(rows, ['subject', 'body'], 'queue');
    expect(examples).toEqual([
      { text: 'Hi Body, text', label: 'Billing' },
      { text: 'A ', label: 'IT' },
    ]);
    expect(skipped).toBe(1);
  });

  it('names the missing column and the ones that exist', () => {
    const err = (() => {
      try {
        toLabeledExamples(rows, ['subject'], 'department');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ClassifierError);
    expect((err as ClassifierError).code).toBe('CSV_MISSING_COLUMN');
    expect((err as ClassifierError).message).toContain('Subject, body, queue');
  });
});

describe('readLabeledCsv', () => {
  it('reads a file and reports a missing one as FILE_NOT_FOUND', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'classifier-csv-'));
    const file = join(dir, 'x.csv');
    await writeFile(file, '\uFEFFtext,label\n"multi\nline",a\n');
    const { examples } = await readLabeledCsv(file, ['text'], 'label');
    expect(examples).toEqual([{ text: 'multi\nline', label: 'a' }]);
    await expect(readLabeledCsv(join(dir, 'nope.csv'), ['text'], 'label')).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
  });
});
