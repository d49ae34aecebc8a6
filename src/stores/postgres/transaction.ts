import type pg from 'pg';

/**
 * Runs `fn` inside BEGIN/COMMIT on a pooled client (ROLLBACK when it throws). A connection lost
 * while the client is checked out is also reported as an 'error' event, which would crash the
 * process without a listener: the failing query reports it, and the client is discarded on release.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error): void => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
