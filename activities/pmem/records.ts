/**
 * Which namespace went to which migration, kept as one small JSON file per namespace in the host's
 * assignments directory (the host inventory's pmem.assignmentsDir). Creating a record is the
 * arbiter between two migrations that chose the same namespace at the same moment: it is an
 * exclusive create (O_EXCL), so exactly one wins and the other decides again from fresh facts.
 * A record is never trusted blindly: the pure assignment judges whether it still holds
 * (model/pmem/assignment.ts); one that does not is removed here before its namespace is reused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AssignmentRecord } from '../../model/pmem/assignment';

const RecordSchema = z.strictObject({
  namespace: z.string().min(1),
  migrationId: z.string().min(1),
  vmUuid: z.string().min(1),
  device: z.string().min(1),
});

const same = (a: AssignmentRecord, b: AssignmentRecord) =>
  a.namespace === b.namespace && a.migrationId === b.migrationId && a.vmUuid === b.vmUuid && a.device === b.device;

export class PmemAssignmentRecords {
  constructor(readonly dir: string) {}

  private file(namespace: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(namespace)) throw new Error(`'${namespace}' is no namespace name a record file can carry`);
    return path.join(this.dir, `${namespace}.json`);
  }

  /** Every record in the directory; a file that is no record is an error naming it (never ignored: it may hold a namespace). */
  list(): AssignmentRecord[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs.readdirSync(this.dir).filter((f) => f.endsWith('.json')).sort().map((f) => {
      const file = path.join(this.dir, f);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        // Removed between the listing and the read: it held nothing any more.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      const parsed = (() => {
        try {
          return RecordSchema.safeParse(JSON.parse(text));
        } catch {
          return undefined;
        }
      })();
      if (!parsed?.success || `${parsed.data.namespace}.json` !== f) {
        throw new Error(`${file} is not a vPMEM assignment record ({namespace, migrationId, vmUuid, device}, named after its namespace): ` +
          'fix or remove it by hand (ferry does not guess whether it still holds its namespace)');
      }
      return parsed.data;
    }).filter((r): r is AssignmentRecord => r !== undefined);
  }

  /**
   * Creates the record unless its namespace has one: 'created' (or 'created' again when this very
   * record is there: a retry), 'taken' when another migration's record won the namespace.
   */
  create(record: AssignmentRecord): 'created' | 'taken' {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = this.file(record.namespace);
    const tmp = path.join(this.dir, `.${record.namespace}.${randomUUID()}.tmp`);
    // Written whole under a temporary name, then linked in place: link() fails if the name exists,
    // and a reader never sees a half-written record.
    fs.writeFileSync(tmp, `${JSON.stringify(record)}\n`);
    try {
      fs.linkSync(tmp, file);
      return 'created';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const there = this.list().find((r) => r.namespace === record.namespace);
      return there && same(there, record) ? 'created' : 'taken';
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /**
   * Removes a record judged stale, only if it is still that record: it is first moved aside (one
   * remover wins the rename), compared, and put back when another record took its place meanwhile.
   */
  dropStale(record: AssignmentRecord): void {
    const file = this.file(record.namespace);
    const aside = path.join(this.dir, `.${record.namespace}.${randomUUID()}.stale`);
    try {
      fs.renameSync(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    try {
      const moved = RecordSchema.safeParse(JSON.parse(fs.readFileSync(aside, 'utf8')));
      if (moved.success && same(moved.data, record)) return;
      // A fresh record replaced the stale one between our reading and the rename: it goes back.
      fs.linkSync(aside, file);
    } finally {
      fs.rmSync(aside, { force: true });
    }
  }
}
