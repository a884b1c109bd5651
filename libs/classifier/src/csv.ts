import { readFile } from 'node:fs/promises';
import { ClassifierError } from './errors.js';

/**
 * RFC 4180 parser: quoted fields with "" escapes, commas and line breaks inside quotes,
 * CRLF or LF line ends, an optional UTF-8 BOM. Lenient where the RFC is strict but the
 * intent is clear (a stray quote inside an unquoted field is kept as text); loud where
 * data would silently be lost (an unterminated quote).
 */
export function parseCsv(input: string): string[][] {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"' && field === '') {
      // Quoted field: read to the closing quote, unescaping "".
      const startLine = line;
      i++;
      let closed = false;
      while (i < n) {
        const q = text[i]!;
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      if (!closed) {
        throw new ClassifierError(
          'CSV_MALFORMED',
          `unterminated quoted field starting on line ${startLine}`,
        );
      }
      // Anything between the closing quote and the next separator is kept as text.
      while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      continue;
    }
    if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
    } else {
      field += c;
      i++;
    }
  }
  // A final record without a trailing line break.
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  // Blank lines carry no record (a lone empty field); drop them.
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

export interface LabeledExample {
  text: string;
  label: string;
}

export interface LabeledCsv {
  examples: LabeledExample[];
  /** Rows dropped because the label was empty. */
  skipped: number;
  header: string[];
}

/**
 * Turns parsed rows into examples: the text columns are joined with a space, the label
 * column is trimmed. Column names are matched exactly, then case-insensitively.
 */
export function toLabeledExamples(
  rows: string[][],
  textColumns: readonly string[],
  labelColumn: string,
  source = 'CSV',
): LabeledCsv {
  const header = (rows[0] ?? []).map((h) => h.trim());
  if (header.length === 0) throw new ClassifierError('DATA_EMPTY', `${source} is empty`);
  const find = (name: string): number => {
    let idx = header.indexOf(name);
    if (idx < 0) idx = header.findIndex((h) => h.toLowerCase() === name.toLowerCase());
    if (idx < 0) {
      throw new ClassifierError(
        'CSV_MISSING_COLUMN',
        `${source} has no column "${name}" (columns: ${header.join(', ')})`,
      );
    }
    return idx;
  };
  const textIdx = textColumns.map(find);
  const labelIdx = find(labelColumn);
  const examples: LabeledExample[] = [];
  let skipped = 0;
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    const label = (row[labelIdx] ?? '').trim();
    if (label === '') {
      skipped++;
      continue;
    }
    const text = textIdx.map((i) => row[i] ?? '').join(' ');
    examples.push({ text, label });
  }
  return { examples, skipped, header };
}

/** Reads a labeled CSV file; a missing file is a FILE_NOT_FOUND error, not an ENOENT. */
export async function readLabeledCsv(
  path: string,
  textColumns: readonly string[],
  labelColumn: string,
): Promise<LabeledCsv> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ClassifierError('FILE_NOT_FOUND', `cannot read ${path}`, { cause });
  }
  return toLabeledExamples(parseCsv(raw), textColumns, labelColumn, path);
}
