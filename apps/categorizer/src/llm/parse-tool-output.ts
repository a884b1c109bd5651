import type { Message } from '@anthropic-ai/sdk/resources/messages';
import { activeDepartments, type Taxonomy } from '../taxonomy.js';
import { LlmError } from './llm-error.js';
import { TOOL_NAME } from './prompt.js';

// The model's answer is untrusted input like any other: the enums in the tool schema
// make a valid answer likely, not certain. Anything off-taxonomy, missing, or cut
// short is LLM_INVALID_OUTPUT and never reaches the router.

export interface TriageOutput {
  department: string;
  category: string;
  priority: string;
  confidence: number;
  rationale?: string;
}

// What the model put there, shortened: enough to debug, too little to leak a ticket.
const shown = (v: unknown): string => (JSON.stringify(v) ?? 'undefined').slice(0, 60);

function invalid(reason: string, message: Message): LlmError {
  return new LlmError('LLM_INVALID_OUTPUT', `invalid tool output: ${reason}`, {
    requestId: message.id,
  });
}

// Exact match first; a case or whitespace slip still names a listed value, so it is
// mapped to the canonical spelling rather than thrown away.
function pick(value: unknown, allowed: string[]): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (allowed.includes(value)) return value;
  const wanted = value.trim().toLowerCase();
  return allowed.find((a) => a.toLowerCase() === wanted);
}

export function parseToolOutput(message: Message, taxonomy: Taxonomy): TriageOutput {
  // max_tokens means the tool input was cut off; refusal and end_turn mean no tool call.
  if (message.stop_reason !== 'tool_use') {
    throw invalid(`stop_reason ${String(message.stop_reason)}`, message);
  }
  const block = message.content.find((b) => b.type === 'tool_use' && b.name === TOOL_NAME);
  if (!block || block.type !== 'tool_use') throw invalid(`no ${TOOL_NAME} tool_use block`, message);
  const input = block.input;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('tool input is not an object', message);
  }
  const fields = input as Record<string, unknown>;

  const department = pick(
    fields.department,
    activeDepartments(taxonomy).map((d) => d.name),
  );
  if (!department) throw invalid(`department ${shown(fields.department)}`, message);
  const category = pick(
    fields.category,
    taxonomy.categories.map((c) => c.name),
  );
  if (!category) throw invalid(`category ${shown(fields.category)}`, message);
  const priority = pick(
    fields.priority,
    taxonomy.priorities.map((p) => p.name),
  );
  if (!priority) throw invalid(`priority ${shown(fields.priority)}`, message);

  const confidence = fields.confidence;
  if (
    typeof confidence !== 'number' ||
    !Number.isFinite(confidence) ||
    confidence < 0 ||
    confidence > 1
  ) {
    throw invalid(`confidence ${shown(confidence)}`, message);
  }
  const out: TriageOutput = { department, category, priority, confidence };
  if (typeof fields.rationale === 'string' && fields.rationale.trim() !== '') {
    out.rationale = fields.rationale.trim().slice(0, 300);
  }
  return out;
}
