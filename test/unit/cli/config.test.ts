import { describe, expect, it } from 'vitest';
import { describeTarget, describeTaskQueue, loadClientConfig } from '../../../client/config';
import { UnavailableError } from '../../../client/errors';

describe('the client configuration: the environment only, each value with the setting that chose it', () => {
  it('defaults say that they are defaults and which variable would change them', () => {
    const c = loadClientConfig('ferry', {});
    expect(c).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'ferry', tls: null });
    expect(describeTarget(c)).toBe("127.0.0.1:7233 (default; FERRY_TEMPORAL_ADDRESS unset), namespace 'default' (default; FERRY_TEMPORAL_NAMESPACE unset)");
    expect(describeTaskQueue(c)).toBe("task queue 'ferry' (default; FERRY_TASK_QUEUE unset)");
  });

  it('set values name their variable', () => {
    const c = loadClientConfig('ferry', { FERRY_TEMPORAL_ADDRESS: 'temporal.example:7233', FERRY_TEMPORAL_NAMESPACE: 'prod', FERRY_TASK_QUEUE: 'ferry-eu' });
    expect(describeTarget(c)).toBe("temporal.example:7233 (from FERRY_TEMPORAL_ADDRESS), namespace 'prod' (from FERRY_TEMPORAL_NAMESPACE)");
    expect(describeTaskQueue(c)).toBe("task queue 'ferry-eu' (from FERRY_TASK_QUEUE)");
  });

  it('TLS: on with FERRY_TEMPORAL_TLS=1 or any file; a certificate needs its key', () => {
    expect(loadClientConfig('ferry', { FERRY_TEMPORAL_TLS: '1' }).tls).toEqual({ ca: undefined, cert: undefined, key: undefined });
    expect(loadClientConfig('ferry', { FERRY_TEMPORAL_TLS_CERT: 'c.pem', FERRY_TEMPORAL_TLS_KEY: 'k.pem' }).tls).toEqual({ ca: undefined, cert: 'c.pem', key: 'k.pem' });
    expect(() => loadClientConfig('ferry', { FERRY_TEMPORAL_TLS_CERT: 'c.pem' })).toThrow('FERRY_TEMPORAL_TLS_CERT and FERRY_TEMPORAL_TLS_KEY go together');
  });

  it('bad values are one UnavailableError (exit 69) listing every problem', () => {
    let err: unknown;
    try {
      loadClientConfig('ferry', { FERRY_TEMPORAL_ADDRESS: 'http://temporal', FERRY_TEMPORAL_TLS: 'yes', FERRY_TASK_QUEUE: '' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe(
      "bad configuration: FERRY_TEMPORAL_ADDRESS must be host:port, got 'http://temporal'; FERRY_TASK_QUEUE is set but empty; FERRY_TEMPORAL_TLS must be 0 or 1, got 'yes'",
    );
  });
});
