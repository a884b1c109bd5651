import { describe, expect, it } from 'vitest';
import { createSemaphore } from './semaphore.js';

describe('semaphore', () => {
  it('never lets more than max run at once, and hands slots over in order', async () => {
    const sem = createSemaphore(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = async (i: number) => {
      const release = await sem.acquire();
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      release();
      release(); // idempotent
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(task));
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(sem.inFlight).toBe(0);
  });

  it('a waiter that aborts leaves the queue', async () => {
    const sem = createSemaphore(1);
    const release = await sem.acquire();
    const ac = new AbortController();
    const waiting = sem.acquire(ac.signal);
    expect(sem.waiting).toBe(1);
    ac.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(sem.waiting).toBe(0);
    release();
    expect(sem.inFlight).toBe(0);
  });
});
