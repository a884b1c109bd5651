import { meetsConfidenceThreshold, type Taxonomy } from '@mailroom/categorizer';
import type { PayloadOf } from '@mailroom/events';
import { matchesAddress } from '@mailroom/mail';
import type { RoutingRules } from './rules.js';

export type PriorityName = PayloadOf<'ticket.routed'>['priority'];
const PRIORITY_ORDER: readonly PriorityName[] = ['low', 'medium', 'high', 'critical'];

export interface RoutingInput {
  requesterEmail: string;
  title: string;
  description: string;
  categorized: PayloadOf<'ticket.categorized'>;
}

export interface RoutingDecision {
  department: string;
  priority: PriorityName;
  /** What fired: `sender:<name>`, `keyword:<name>`, `categorizer`, `triage:<why>`, plus `+vip:<name>`. */
  rule: string;
  /** The categorizer's confidence when it (or its lack of confidence) decided. */
  confidence?: number;
  decidedBy: string;
}

export interface RoutingContext {
  rules: RoutingRules;
  taxonomy: Taxonomy;
  triageDepartment: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const keywordCache = new Map<string, RegExp>();

/** Whole word or phrase, any case, any whitespace between the words of a phrase. */
function keywordRegExp(keyword: string): RegExp {
  let re = keywordCache.get(keyword);
  if (!re) {
    const body = keyword.trim().split(/\s+/).map(escapeRegExp).join('\\s+');
    re = new RegExp(`(?<![\\p{L}\\p{N}])${body}(?![\\p{L}\\p{N}])`, 'iu');
    keywordCache.set(keyword, re);
  }
  return re;
}

export const maxPriority = (a: PriorityName, b: PriorityName): PriorityName =>
  PRIORITY_ORDER.indexOf(a) >= PRIORITY_ORDER.indexOf(b) ? a : b;

/**
 * The routing rules in their documented order: sender overrides, keywords, then the
 * categorizer when it is confident enough for that department, else triage. A VIP
 * floor raises the priority whatever chose the department. A department that is
 * inactive sends the ticket to triage, and the rule says why.
 */
export function decideRoute(input: RoutingInput, ctx: RoutingContext): RoutingDecision {
  const { rules, taxonomy, triageDepartment } = ctx;
  const c = input.categorized;
  const base = pickDepartment(input, ctx);

  let decision: RoutingDecision = base;
  const dep = taxonomy.departments.find((d) => d.name === base.department);
  if (dep?.active === false) {
    decision = {
      department: triageDepartment,
      priority: c.priority,
      rule: `triage:inactive_department(${base.department})`,
      ...(base.confidence !== undefined ? { confidence: base.confidence } : {}),
      decidedBy: 'router:triage',
    };
  }

  const vip = rules.vip.find((r) => matchesAddress(input.requesterEmail, r.match));
  if (vip) {
    decision = {
      ...decision,
      priority: maxPriority(decision.priority, vip.priorityFloor),
      rule: `${decision.rule}+vip:${vip.name}`,
    };
  }
  return decision;
}

function pickDepartment(input: RoutingInput, ctx: RoutingContext): RoutingDecision {
  const { rules, taxonomy, triageDepartment } = ctx;
  const c = input.categorized;
  const sender = rules.senders.find((r) => matchesAddress(input.requesterEmail, r.match));
  if (sender) {
    return {
      department: sender.department,
      priority: c.priority,
      rule: `sender:${sender.name}`,
      decidedBy: 'router:rules',
    };
  }
  for (const r of rules.keywords) {
    const fields = r.fields ?? ['title', 'description'];
    const text = fields.map((f) => (f === 'title' ? input.title : input.description)).join('\n');
    if (r.keywords.some((k) => keywordRegExp(k).test(text))) {
      return {
        department: r.department,
        priority: c.priority,
        rule: `keyword:${r.name}`,
        decidedBy: 'router:rules',
      };
    }
  }
  const known = taxonomy.departments.some((d) => d.name === c.department);
  if (known && meetsConfidenceThreshold(taxonomy, c.department, c.confidence)) {
    return {
      department: c.department,
      priority: c.priority,
      rule: 'categorizer',
      confidence: c.confidence,
      decidedBy: `categorizer:${c.method}`,
    };
  }
  return {
    department: triageDepartment,
    priority: c.priority,
    rule: known ? 'triage:low_confidence' : 'triage:unknown_department',
    confidence: c.confidence,
    decidedBy: 'router:triage',
  };
}

/** Low-cardinality label for metrics: the kind of rule, never a configured name. */
export const ruleKind = (rule: string): string => rule.split(/[:+]/)[0] ?? rule;
