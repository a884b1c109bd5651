// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { createElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { TicketList } from './ticket-list.js';
import { ticket } from './test-support.js';

afterEach(cleanup);

describe('TicketList', () => {
  it('shows each ticket with its status, priority, department, method, confidence and review badges', () => {
    render(
      createElement(TicketList, {
        items: [
          ticket({ categorizationMethod: 'local', confidence: 0.834 }),
          ticket({
            id: '1b7c5d8e-1f2a-4b3c-8d9e-0f1a2b3c4d5e',
            number: 43,
            title: 'VPN drops every hour',
            status: 'in_progress',
            priority: 'critical',
            department: 'it_support',
            needsReview: true,
            categorizationMethod: 'llm',
            confidence: 0.41,
          }),
        ],
      }),
    );
    const [first, second] = screen.getAllByRole('listitem');
    const a = within(first!);
    expect(a.getByRole('link').getAttribute('href')).toBe('/tickets/42');
    expect(a.getByText('#42')).toBeTruthy();
    expect(a.getByText('pending')).toBeTruthy();
    expect(a.getByText('high').className).toContain('priority-high');
    expect(a.getByText('billing').className).toContain('department');
    expect(a.getByText('local 83%')).toBeTruthy();
    expect(a.queryByText('needs review')).toBeNull();

    const b = within(second!);
    expect(b.getByText('in progress')).toBeTruthy();
    expect(b.getByText('critical').className).toContain('priority-critical');
    expect(b.getByText('llm 41%').className).toContain('low');
    expect(b.getByText('needs review')).toBeTruthy();
    expect(second!.className).toContain('review');
  });

  it('says when a ticket is not categorized or routed yet, and when nothing matches', () => {
    const { rerender } = render(
      createElement(TicketList, { items: [ticket({ priority: null, department: null })] }),
    );
    expect(screen.getByText('no priority yet')).toBeTruthy();
    expect(screen.getByText('unrouted')).toBeTruthy();
    rerender(createElement(TicketList, { items: [] }));
    expect(screen.getByText('No tickets match.')).toBeTruthy();
  });
});
