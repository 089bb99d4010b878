import { describe, expect, it } from 'vitest';
import { describeTarget, describeTaskQueue, loadClientConfig } from '../../../client/config';
import { UnavailableError } from '../../../client/errors';
import { connectionOptions } from '../../../client/temporal-connection';

describe("the client configuration: Temporal's own (TEMPORAL_*, profile) and ferry's task queue, each value with the setting that chose it", () => {
  it("defaults say that they are defaults (the lab's address) and which variable would change them", () => {
    const c = loadClientConfig('ferry', {});
    expect(c).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'ferry' });
    expect(describeTarget(c)).toBe(
      "127.0.0.1:7233 (default, the lab's; TEMPORAL_ADDRESS unset, no Temporal config file), " +
        "namespace 'default' (default; TEMPORAL_NAMESPACE unset, no Temporal config file)",
    );
    expect(describeTaskQueue(c)).toBe("task queue 'ferry' (default; FERRY_TASK_QUEUE unset)");
    expect(connectionOptions(c)).toEqual({ address: '127.0.0.1:7233', connectTimeout: 5000 });
  });

  it('set values name their variable', () => {
    const c = loadClientConfig('ferry', { TEMPORAL_ADDRESS: 'temporal.example:7233', TEMPORAL_NAMESPACE: 'prod', FERRY_TASK_QUEUE: 'ferry-eu' });
    expect(describeTarget(c)).toBe("temporal.example:7233 (from TEMPORAL_ADDRESS), namespace 'prod' (from TEMPORAL_NAMESPACE)");
    expect(describeTaskQueue(c)).toBe("task queue 'ferry-eu' (from FERRY_TASK_QUEUE)");
  });

  it('bad values are one UnavailableError (exit 69) listing every problem', () => {
    let err: unknown;
    try {
      loadClientConfig('ferry', { TEMPORAL_ADDRESS: 'http://temporal', FERRY_TASK_QUEUE: '' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe(
      "bad configuration: the Temporal address (from TEMPORAL_ADDRESS) must be host:port, got 'http://temporal'; FERRY_TASK_QUEUE is set but empty",
    );
  });

  it("a TLS file that cannot be read is a bad configuration naming the file and its settings (exit 69)", () => {
    const c = loadClientConfig('ferry', {
      TEMPORAL_ADDRESS: 'temporal.example:7233', TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/c.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/k.pem',
    });
    expect(() => connectionOptions(c)).toThrow(UnavailableError);
    expect(() => connectionOptions(c)).toThrow(
      /^bad configuration: the TLS client certificate \/nonexistent\/c\.pem \(TEMPORAL_TLS_CLIENT_CERT_PATH or tls\.client_cert_path\) cannot be read: ENOENT/,
    );
  });
});
