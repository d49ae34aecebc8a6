import { afterAll, describe, expect, it } from 'vitest';
import { StoreConflictError } from '../../src/stores/contracts.js';
import { backends } from './backends.js';
import { consumer } from './fixtures.js';

describe.each(backends('consumers'))('ConsumerStore on $name', (backend) => {
  afterAll(() => backend.cleanup());

  it('creates and reads a consumer by id and by name, every field intact', async () => {
    const store = await backend.open();
    const c = consumer({ tenant: null, metadata: { nested: { a: [1, 2] } } });
    await store.createConsumer(c);
    expect(await store.getConsumer(c.id)).toEqual(c);
    expect(await store.getConsumerByName(c.name)).toEqual(c);
    expect(await store.getConsumer('nope')).toBeUndefined();
    expect(await store.getConsumerByName('nope')).toBeUndefined();
  });

  it('refuses a duplicate name or id with StoreConflictError', async () => {
    const store = await backend.open();
    const c = consumer();
    await store.createConsumer(c);
    await expect(store.createConsumer(consumer({ name: c.name }))).rejects.toBeInstanceOf(StoreConflictError);
    await expect(store.createConsumer(consumer({ id: c.id }))).rejects.toBeInstanceOf(StoreConflictError);
  });

  it('updates only the given fields and the update time', async () => {
    const store = await backend.open();
    const c = consumer();
    await store.createConsumer(c);
    const updated = await store.updateConsumer(c.id, { status: 'suspended', tenant: null }, c.createdAt + 5);
    expect(updated).toEqual({ ...c, status: 'suspended', tenant: null, updatedAt: c.createdAt + 5 });
    expect(await store.updateConsumer('missing', { status: 'active' }, 1)).toBeUndefined();
  });

  it('lists by name with keyset pagination', async () => {
    const store = await backend.open();
    for (const name of ['delta', 'alpha', 'charlie', 'bravo']) await store.createConsumer(consumer({ name }));
    const first = await store.listConsumers({ limit: 2 });
    expect(first.map((c) => c.name)).toEqual(['alpha', 'bravo']);
    const next = await store.listConsumers({ limit: 10, after: 'bravo' });
    expect(next.map((c) => c.name)).toEqual(['charlie', 'delta']);
  });
});
