// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createElement } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApiClient } from './api.js';
import { CLASSIFY_DEBOUNCE_MS, NewTicketForm } from './new-ticket.js';
import { fakeFetch, urlOf } from './test-support.js';

afterEach(cleanup);

const suggestion = {
  department: 'billing',
  category: 'billing_dispute',
  priority: 'high',
  confidence: 0.9,
  method: 'local',
  model: 'local-linear',
  needsReview: false,
};

function renderForm(fetch: typeof globalThis.fetch) {
  const onCreated = vi.fn();
  render(
    createElement(NewTicketForm, {
      api: createApiClient('agent-key', { fetch }),
      departments: ['billing', 'it_support'],
      onCreated,
      onCancel: vi.fn(),
    }),
  );
  return { onCreated };
}

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });

describe('NewTicketForm', () => {
  it('shows the suggestion once typing pauses, with one classify call, and sends overrides as hints', async () => {
    const fetch = fakeFetch((method, path, body) => {
      if (method === 'POST' && path === '/api/classify') return { status: 200, body: suggestion };
      if (method === 'POST' && path === '/api/tickets') {
        expect(body).toMatchObject({ hints: { department: 'it_support' } });
        expect(body).not.toHaveProperty('hints.priority');
        return { status: 202, body: { id: 'new-id', statusUrl: '/api/tickets/new-id' } };
      }
      return undefined;
    });
    const { onCreated } = renderForm(fetch);
    type('Title', 'Charged');
    type('Title', 'Charged twice');
    type('Description', 'My card was billed twice this month');
    expect(fetch).not.toHaveBeenCalled();

    expect(
      await screen.findByText('Suggested:', {}, { timeout: CLASSIFY_DEBOUNCE_MS * 5 }),
    ).toBeTruthy();
    const shown = within(screen.getByRole('region', { name: 'Suggested categorization' }));
    expect(shown.getByText('billing').className).toContain('department');
    expect(shown.getByText('high').className).toContain('priority-high');
    expect(shown.getByText('local 90%')).toBeTruthy();
    expect(screen.getByRole('option', { name: 'suggested (billing)' })).toBeTruthy();
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0]!;
    expect(urlOf(url)).toBe('/api/classify');
    expect(init?.headers).toMatchObject({ authorization: 'Bearer agent-key' });
    expect(JSON.parse(init?.body as string)).toEqual({
      title: 'Charged twice',
      description: 'My card was billed twice this month',
    });

    type('Requester email', 'alice@example.test');
    fireEvent.change(screen.getByLabelText('Department'), { target: { value: 'it_support' } });
    fireEvent.submit(screen.getByRole('button', { name: 'Create ticket' }));
    await waitFor(() => expect(onCreated).toHaveBeenCalledWith('new-id'));
  });

  it("shows the API's message when it refuses the ticket", async () => {
    const fetch = fakeFetch((method, path) => {
      if (path === '/api/classify') return { status: 200, body: suggestion };
      if (method === 'POST' && path === '/api/tickets') {
        return {
          status: 400,
          body: {
            error: {
              code: 'VALIDATION_FAILED',
              message: 'invalid request body: body/requester/email must match format "email"',
              retriable: false,
            },
          },
        };
      }
      return undefined;
    });
    renderForm(fetch);
    type('Title', 'x');
    type('Description', 'y');
    type('Requester email', 'not-an-email');
    fireEvent.submit(screen.getByRole('button', { name: 'Create ticket' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('The API refused the ticket');
    expect(alert.textContent).toContain('body/requester/email must match format "email"');
    expect(alert.textContent).toContain('VALIDATION_FAILED');
  });
});
