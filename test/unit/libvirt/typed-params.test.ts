import { describe, expect, it } from 'vitest';
import { parseJobStats } from '../../../activities/libvirt/job-stats';
import {
  buildMigrationParams,
  MigrateParam,
  param,
  readTypedParams,
  TypedParamType,
  typedParamsToRecord,
  writeTypedParams,
  type TypedParam,
} from '../../../activities/libvirt/typed-params';
import { XdrReader, XdrWriter } from '../../../activities/libvirt/xdr';

function roundTrip(params: TypedParam[]): TypedParam[] {
  const w = new XdrWriter();
  writeTypedParams(w, params, 64);
  const r = new XdrReader(w.toBuffer());
  const out = readTypedParams(r, 64);
  r.assertEnd();
  return out;
}

describe('typed parameters', () => {
  it('encodes field, type and value as remote_typed_param', () => {
    const w = new XdrWriter();
    writeTypedParams(w, [param.ullong('bandwidth', 100)], 64);
    // count 1 | "bandwidth" (9 bytes + 3 pad) | type 4 (ullong) | 100 as 8 bytes
    expect(w.toBuffer().toString('hex')).toBe('00000001' + '00000009' + Buffer.from('bandwidth').toString('hex') + '000000' + '00000004' + '0000000000000064');
  });

  it('round-trips every type', () => {
    const params: TypedParam[] = [
      param.int('i', -5),
      param.uint('u', 4_000_000_000),
      param.llong('l', -(2n ** 40n)),
      param.ullong('ul', 2n ** 64n - 1n),
      param.double('d', 0.125),
      param.boolean('b', true),
      param.boolean('b0', false),
      param.string('s', 'post-copy'),
    ];
    expect(roundTrip(params)).toEqual(params);
    expect(params.map((p) => p.type)).toEqual([1, 2, 3, 4, 5, 6, 6, 7]);
  });

  it('carries booleans as ints on the wire', () => {
    const w = new XdrWriter();
    writeTypedParams(w, [param.boolean('success', true)], 64);
    expect(w.toBuffer().subarray(-8).toString('hex')).toBe('0000000600000001');
  });

  it('rejects unknown types and too many parameters', () => {
    const w = new XdrWriter();
    w.writeUint(1).writeString('x').writeInt(9).writeInt(0);
    expect(() => readTypedParams(new XdrReader(w.toBuffer()), 64)).toThrow(/unknown typed parameter type 9/);
    const many = Array.from({ length: 65 }, (_, i) => param.int(`p${i}`, i));
    expect(() => writeTypedParams(new XdrWriter(), many, 64)).toThrow(/limit/);
  });
});

describe('migration parameter builder', () => {
  it('uses libvirt\'s names and the types the QEMU driver insists on', () => {
    const params = buildMigrationParams({
      destXml: '<domain/>',
      persistXml: '<domain/>',
      bandwidthMiBs: 100,
      bandwidthPostcopyMiBs: 50,
      uri: 'tcp://10.0.0.2',
      listenAddress: '10.0.0.2',
      destName: 'web-7',
      migrateDisks: ['vda', 'vdb'],
      disksPort: 49153,
      parallelConnections: 4,
      autoConvergeInitial: 20,
      autoConvergeIncrement: 10,
    });
    const byName = (f: string) => params.filter((p) => p.field === f);
    expect(byName(MigrateParam.DestXml)[0]).toEqual({ field: 'destination_xml', type: TypedParamType.String, value: '<domain/>' });
    expect(byName(MigrateParam.PersistXml)[0]!.field).toBe('persistent_xml');
    expect(byName(MigrateParam.Bandwidth)[0]).toEqual({ field: 'bandwidth', type: TypedParamType.Ullong, value: 100n });
    expect(byName(MigrateParam.BandwidthPostcopy)[0]).toEqual({ field: 'bandwidth.postcopy', type: TypedParamType.Ullong, value: 50n });
    expect(byName('migrate_uri')[0]!.type).toBe(TypedParamType.String);
    expect(byName('listen_address')[0]!.value).toBe('10.0.0.2');
    expect(byName('destination_name')[0]!.value).toBe('web-7');
    expect(byName('migrate_disks').map((p) => p.value)).toEqual(['vda', 'vdb']);
    expect(byName('disks_port')[0]!.type).toBe(TypedParamType.Int);
    expect(byName('parallel.connections')[0]!.type).toBe(TypedParamType.Int);
    expect(byName('auto_converge.initial')[0]!.type).toBe(TypedParamType.Int);
    expect(buildMigrationParams({})).toEqual([]);
    expect(typedParamsToRecord(roundTrip(params))['bandwidth']).toBe(100n);
  });
});

describe('job statistics', () => {
  it('maps libvirt\'s field names to a typed object', () => {
    const stats = parseJobStats(1, [
      param.int('operation', 5),
      param.ullong('time_elapsed', 1234),
      param.ullong('data_total', 536870912),
      param.ullong('data_processed', 1000),
      param.ullong('data_remaining', 536869912),
      param.ullong('memory_iteration', 3),
      param.ullong('memory_dirty_rate', 4096),
      param.ullong('memory_bps', 117440512),
      param.ullong('downtime', 170),
      param.ullong('setup_time', 12),
      param.ullong('memory_postcopy_requests', 2764),
      param.boolean('success', false),
      param.string('errmsg', 'migration aborted'),
      param.int('some_future_field', 1),
    ]);
    expect(stats).toMatchObject({
      type: 1,
      typeName: 'Bounded',
      operation: 5,
      operationName: 'migration_out',
      timeElapsedMs: 1234,
      dataTotal: 536870912,
      dataRemaining: 536869912,
      memoryIteration: 3,
      memoryDirtyRate: 4096,
      memoryBps: 117440512,
      downtimeMs: 170,
      setupTimeMs: 12,
      memoryPostcopyRequests: 2764,
      success: false,
      errmsg: 'migration aborted',
    });
    expect(stats.raw['some_future_field']).toBe(1);
    expect(parseJobStats(0, [])).toMatchObject({ type: 0, typeName: 'None' });
  });
});
