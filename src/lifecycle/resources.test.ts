import { describe, expect, it } from 'vitest';
import { createResources } from './resources.js';

describe('started resources', () => {
  it('close newest first, each once, even when one of them throws', async () => {
    const closed: string[] = [];
    const failed: string[] = [];
    const resources = createResources({ onCloseError: (name) => failed.push(name) });
    resources.add('health', () => closed.push('health'));
    resources.add('workers', async () => {
      await new Promise((r) => setTimeout(r, 5));
      closed.push('workers');
    });
    resources.add('webhook', () => {
      throw new Error('already closed');
    });
    resources.add('watcher', () => closed.push('watcher'));
    await Promise.all([resources.closeAll(), resources.closeAll()]);
    await resources.closeAll();
    expect(closed).toEqual(['watcher', 'workers', 'health']);
    expect(failed).toEqual(['webhook']);
  });

  it('refuses a resource started after closing began', async () => {
    const resources = createResources({ onCloseError: () => undefined });
    void resources.closeAll();
    expect(() => resources.add('late', () => undefined)).toThrow('started after closing began');
  });
});
