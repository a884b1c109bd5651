import { describe, expect, it } from 'vitest';
import { DEFAULT_TAXONOMY } from '@mailroom/categorizer';
import { decideRoute, type RoutingInput } from './decide.js';
import { RoutingRulesError, parseRoutingRules } from './rules.js';

const taxonomy = {
  ...DEFAULT_TAXONOMY,
  departments: [
    ...DEFAULT_TAXONOMY.departments,
    { name: 'Legal', description: 'Legal questions.', active: false },
  ],
};
const rules = parseRoutingRules(
  {
    senders: [{ name: 'acme', match: ['@acme.example'], department: 'Legal' }],
    vip: [{ name: 'boss', match: ['boss@example.test'], priorityFloor: 'critical' }],
    keywords: [{ name: 'badge', keywords: ['door badge'], department: 'Facilities' }],
  },
  taxonomy,
  'General',
);
const ctx = { rules, taxonomy, triageDepartment: 'General' };
const input = (over: Partial<RoutingInput> = {}): RoutingInput => ({
  requesterEmail: 'a@example.test',
  title: 'Help',
  description: '',
  categorized: {
    department: 'HR',
    category: 'general',
    priority: 'low',
    confidence: 0.4,
    method: 'llm',
    model: 'm',
    latencyMs: 1,
    needsReview: false,
  },
  ...over,
});

describe('decideRoute', () => {
  it('keywords match whole phrases across whitespace, not parts of words', () => {
    expect(decideRoute(input({ description: 'my DOOR\n badge broke' }), ctx).rule).toBe(
      'keyword:badge',
    );
    expect(decideRoute(input({ description: 'doorbadges' }), ctx).rule).toBe(
      'triage:low_confidence',
    );
  });

  it('a sender rule to an inactive department falls back to triage and says why', () => {
    const d = decideRoute(input({ requesterEmail: 'x@eu.acme.example' }), ctx);
    expect(d).toMatchObject({ department: 'General', rule: 'triage:inactive_department(Legal)' });
  });

  it('the VIP floor raises the priority, never lowers it', () => {
    const d = decideRoute(input({ requesterEmail: 'boss@example.test' }), ctx);
    expect(d).toMatchObject({ priority: 'critical', rule: 'triage:low_confidence+vip:boss' });
  });

  it('the default threshold (0.5) decides between categorizer and triage', () => {
    const c = input().categorized;
    expect(decideRoute(input({ categorized: { ...c, confidence: 0.5 } }), ctx)).toMatchObject({
      department: 'HR',
      rule: 'categorizer',
      decidedBy: 'categorizer:llm',
    });
    expect(
      decideRoute(input({ categorized: { ...c, department: 'Sales', confidence: 1 } }), ctx).rule,
    ).toBe('triage:unknown_department');
  });

  it('rejects rules that name unknown departments or a bad triage queue', () => {
    expect(() =>
      parseRoutingRules(
        { senders: [{ name: 'x', match: ['@x.example'], department: 'Nope' }] },
        taxonomy,
        'General',
      ),
    ).toThrow(RoutingRulesError);
    expect(() => parseRoutingRules({}, taxonomy, 'Legal')).toThrow(/inactive/);
  });
});
