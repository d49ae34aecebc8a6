import { afterAll, describe, expect, it } from 'vitest';
import { backends } from './backends.js';

describe.each(backends('secrets'))('SecretStore on $name', (backend) => {
  afterAll(() => backend.cleanup());

  it('puts, replaces, lists and deletes secrets', async () => {
    const store = await backend.open();
    await store.putSecret({ name: 'b', keyId: 'k1', ciphertext: 'x.y.z', updatedAt: 1 });
    await store.putSecret({ name: 'a', keyId: 'k1', ciphertext: 'p.q.r', updatedAt: 2 });
    await store.putSecret({ name: 'b', keyId: 'k2', ciphertext: 'u.v.w', updatedAt: 3 });
    expect(await store.getSecret('b')).toEqual({ name: 'b', keyId: 'k2', ciphertext: 'u.v.w', updatedAt: 3 });
    expect((await store.listSecrets()).map((s) => s.name)).toEqual(['a', 'b']);
    expect(await store.deleteSecret('a')).toBe(true);
    expect(await store.deleteSecret('a')).toBe(false);
    expect(await store.getSecret('a')).toBeUndefined();
  });
});
