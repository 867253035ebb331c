import { describe, expect, it } from 'vitest';
import { newClusterId } from '../../../local-services/kafka.ts';

describe('newClusterId', () => {
  it('never starts with a character the storage tool would read as an option', () => {
    // 1 in 32 raw draws starts with '-' or '_': 5,000 draws would show it ~150 times.
    for (let i = 0; i < 5000; i += 1) {
      const id = newClusterId();
      expect(id).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
    }
  });
});
