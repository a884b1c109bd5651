// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { createElement } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, createApiClient } from './api.js';
import { ErrorNotice } from './error-notice.js';
import { SignIn } from './sign-in.js';
import { fakeFetch, urlOf } from './test-support.js';

afterEach(cleanup);

describe('errors', () => {
  it("the sign-in shows the API's refusal of an intake-only key and keeps nothing", async () => {
    const fetch = fakeFetch(() => ({
      status: 403,
      body: {
        error: { code: 'FORBIDDEN', message: 'this key lacks the agent scope', retriable: false },
      },
    }));
    const onSignIn = vi.fn();
    render(createElement(SignIn, { onSignIn, clientOptions: { fetch } }));
    fireEvent.change(screen.getByLabelText('Agent API key'), { target: { value: 'intake-key' } });
    fireEvent.submit(screen.getByRole('button', { name: 'Sign in' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('Sign-in refused: this key lacks the agent scope (FORBIDDEN)');
    expect(onSignIn).not.toHaveBeenCalled();
    expect(urlOf(fetch.mock.calls[0]![0])).toBe('/api/tickets?limit=1');
  });

  it('the client turns an unreachable API and a non-JSON answer into clear errors', async () => {
    const down = createApiClient('k', {
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });
    await expect(down.stats()).rejects.toMatchObject({
      code: 'NETWORK',
      message: 'cannot reach the API: Failed to fetch',
      retriable: true,
    });
    const proxy = createApiClient('k', {
      fetch: async () =>
        new Response('<h1>Bad Gateway</h1>', { status: 502, statusText: 'Bad Gateway' }),
    });
    await expect(proxy.stats()).rejects.toMatchObject({
      status: 502,
      message: 'HTTP 502 Bad Gateway',
    });
  });

  it('ErrorNotice renders nothing without an error', () => {
    const { container, rerender } = render(createElement(ErrorNotice, { error: undefined }));
    expect(container.innerHTML).toBe('');
    rerender(
      createElement(ErrorNotice, {
        error: new ApiError(409, 'INVALID_TRANSITION', 'closed → pending is not allowed', false),
      }),
    );
    expect(screen.getByRole('alert').textContent).toBe(
      'closed → pending is not allowed (INVALID_TRANSITION)',
    );
  });
});
