import { loadDefaultModel, type Classifier } from '@mailroom/classifier';
import { beforeAll, describe, expect, it } from 'vitest';
import { toCategorizedPayload } from '../decide.js';
import { DEFAULT_TAXONOMY, parseTaxonomy, TaxonomyError } from '../taxonomy.js';
import { createLocalCategorizer } from './local-categorizer.js';

let queue: Classifier;
let priority: Classifier;
beforeAll(async () => {
  [queue, priority] = await Promise.all([loadDefaultModel('queue'), loadDefaultModel('priority')]);
});

const ticket = (subject: string, body: string) => ({
  ticketId: 't',
  subject,
  body,
  requesterEmail: 'a@example.test',
});

describe('local categorizer', () => {
  it('maps the model labels onto the default taxonomy', async () => {
    const local = createLocalCategorizer({
      taxonomy: DEFAULT_TAXONOMY,
      departmentModel: queue,
      priorityModel: priority,
      fallbackDepartment: 'General',
    });
    expect(local.unmappedLabels).toEqual([]);
    const c = await local.categorize(
      ticket('Invoice charged twice', 'My card was charged twice, please refund the payment.'),
    );
    expect(c).toMatchObject({ department: 'Finance', category: 'billing', method: 'local' });
    expect(['low', 'medium', 'high']).toContain(c.priority);
    expect(c.confidence).toBeGreaterThan(0);
    expect(c.confidence).toBeLessThanOrEqual(1);
  });

  it('abstains to the fallback department with needsReview below the threshold', async () => {
    const taxonomy = parseTaxonomy({
      ...DEFAULT_TAXONOMY,
      localModel: { ...DEFAULT_TAXONOMY.localModel!, abstainThreshold: 0.999 },
    });
    const local = createLocalCategorizer({
      taxonomy,
      departmentModel: queue,
      fallbackDepartment: 'General',
    });
    const c = await local.categorize(ticket('hello', 'something'));
    expect(c).toMatchObject({ department: 'General', needsReview: true, priority: 'medium' });
    expect(toCategorizedPayload(taxonomy, c, 'General')).toMatchObject({
      department: 'General',
      needsReview: true,
    });
  });

  it('follows a changed taxonomy without code change; unmapped labels abstain', async () => {
    const taxonomy = parseTaxonomy({
      departments: [
        { name: 'Money', description: 'Payments.' },
        { name: 'Triage', description: 'Everything else.' },
      ],
      categories: [{ name: 'question', description: 'Any.' }],
      priorities: [{ name: 'high', description: 'Urgent.' }],
      localModel: { departments: { 'Billing and Payments': 'Money' } },
    });
    const local = createLocalCategorizer({
      taxonomy,
      departmentModel: queue,
      priorityModel: priority,
      fallbackDepartment: 'Triage',
    });
    expect(local.unmappedLabels).toHaveLength(queue.labels.length - 1);
    const money = await local.categorize(
      ticket('Payment failed', 'My invoice payment by credit card was declined, billing help.'),
    );
    expect(money).toMatchObject({ department: 'Money', category: 'question', priority: 'high' });
    const other = await local.categorize(ticket('Server down', 'The outage continues.'));
    expect(other).toMatchObject({ department: 'Triage', needsReview: true });
  });

  it('rejects a map that points at unknown departments, categories or priorities', () => {
    expect(() =>
      parseTaxonomy({
        ...DEFAULT_TAXONOMY,
        localModel: {
          departments: { 'Human Resources': 'People' },
          categories: { x: 'nope' },
          priorities: { high: 'urgent' },
        },
      }),
    ).toThrow(TaxonomyError);
  });
});
