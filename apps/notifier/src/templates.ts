import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMailTemplate, templatePlaceholders, type MailTemplate } from '@mailroom/mail';

// Templates are files a support team edits (TEMPLATES_DIR): one `<name>.mail` per mail.
// They are loaded and checked at start, so a typo in a placeholder stops the notifier
// instead of producing a broken mail to a customer.

export const TEMPLATE_NAMES = [
  'acknowledgement',
  'status-in-progress',
  'status-resolved',
  'status-closed',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** The values every template may use. */
export const TEMPLATE_VALUES = [
  'number',
  'title',
  'name',
  'department',
  'priority',
  'expectedResponse',
  'statusUrl',
] as const;
export type TemplateParams = Record<(typeof TEMPLATE_VALUES)[number], string>;

export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../templates', import.meta.url));

export class TemplateLoadError extends Error {
  readonly code = 'TEMPLATES_INVALID';
  readonly retriable = false;
}

export async function loadTemplates(dir: string): Promise<Map<TemplateName, MailTemplate>> {
  const out = new Map<TemplateName, MailTemplate>();
  const problems: string[] = [];
  for (const name of TEMPLATE_NAMES) {
    const path = join(dir || DEFAULT_TEMPLATES_DIR, `${name}.mail`);
    try {
      const template = parseMailTemplate(name, await readFile(path, 'utf8'));
      const unknown = templatePlaceholders(template).filter(
        (p) => !(TEMPLATE_VALUES as readonly string[]).includes(p),
      );
      if (unknown.length > 0) problems.push(`${path}: unknown placeholders ${unknown.join(', ')}`);
      out.set(name, template);
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new TemplateLoadError(`mail templates: ${problems.join('; ')}`);
  return out;
}

/** Expected first answer per priority, as the acknowledgement promises it. */
export const EXPECTED_RESPONSE: Record<string, string> = {
  critical: 'within 4 hours',
  high: 'within 1 business day',
  medium: 'within 2 business days',
  low: 'within 5 business days',
};

/** The status mail of a status, if that status is one the requester hears about. */
export function statusTemplate(status: string): TemplateName | null {
  switch (status) {
    case 'in_progress':
      return 'status-in-progress';
    case 'resolved':
      return 'status-resolved';
    case 'closed':
      return 'status-closed';
    default:
      return null; // pending again means the requester just replied: nothing to tell them
  }
}
