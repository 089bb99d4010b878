/**
 * prepareDestinationXml: the source's migratable XML -> the XML the destination will run, with what
 * is host-specific rewritten from facts the destination reported, what cannot live-migrate refused,
 * and what the guest sees verified unchanged. Pure: no I/O, deterministic, idempotent.
 */
import { z } from 'zod';
import { rewriteChardevs } from './chardevs';
import { RewriteContext } from './context';
import { passthroughDevices } from './devices';
import { DestinationXmlError, type Problem } from './errors';
import { DestinationFactsSchema, PrepareOptionsSchema, type DestinationFacts, type PrepareOptions, type PreparedXml } from './facts';
import { rewriteGraphicsListen } from './graphics';
import { assertGuestVisibleUnchanged } from './guest-visible';
import { rewritePaths } from './paths';
import { rewriteVpmemNamespaces } from './vpmem';
import { pinningProblems, rewriteCpuPinning, rewriteNumaNodes } from './pinning';
import { cloneXml, firstChild, parseXml, serializeXml, textOf, XmlParseError, type XmlDocument } from './xml-dom';

function validated<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new DestinationXmlError(
    `invalid ${what}`,
    parsed.error.issues.map((i) => ({ path: i.path.length ? i.path.join('.') : what, reason: issueReason(i) })),
  );
}

/** zod reports a bad record key as "Invalid key in record" with the reason nested one level down. */
function issueReason(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key' && issue.issues.length) return `key: ${issue.issues.map((i) => i.message).join('; ')}`;
  return issue.message;
}

function parseDomain(xml: string, what: string): XmlDocument {
  let parsed: XmlDocument;
  try {
    parsed = parseXml(xml);
  } catch (err) {
    if (err instanceof XmlParseError) throw new DestinationXmlError(`the ${what} is not usable`, [{ path: '/', reason: err.message }]);
    throw err;
  }
  if (parsed.root.tagName !== 'domain') {
    throw new DestinationXmlError(`the ${what} is not usable`, [{ path: `/${parsed.root.tagName}`, reason: 'the root element is not <domain>' }]);
  }
  return parsed;
}

/** Facts and options are validated again here (they cross a Temporal boundary as plain JSON). */
export function prepareDestinationXml(sourceXml: string, factsInput: DestinationFacts, optsInput: PrepareOptions = {}): PreparedXml {
  const facts = validated(DestinationFactsSchema, factsInput, 'destination facts');
  const opts = validated(PrepareOptionsSchema, optsInput, 'options');
  const source = parseDomain(sourceXml, 'source domain XML');
  const work = cloneXml(source);
  const domainName = textOf(firstChild(source.root, 'name'))?.trim() ?? '?';
  const ctx = new RewriteContext(work.root, facts, opts);

  if (!opts.allowHostdev) {
    for (const d of passthroughDevices(work.root)) {
      ctx.problems.push({
        path: d.path,
        reason: `${d.description} cannot be live-migrated (QEMU cannot move a physical device's state): detach it first`,
      });
    }
  }
  rewriteGraphicsListen(ctx);
  rewriteChardevs(ctx);
  rewritePaths(ctx);
  rewriteVpmemNamespaces(ctx);
  rewriteCpuPinning(ctx);
  rewriteNumaNodes(ctx);
  if (opts.destName !== undefined) {
    const name = firstChild(work.root, 'name');
    if (name) ctx.setText(name, opts.destName, 'renamed on the destination (destName)');
  }

  if (ctx.problems.length) {
    throw new DestinationXmlError(`domain '${domainName}' cannot be migrated to ${facts.hostName}`, ctx.problems);
  }

  const xml = serializeXml(work);
  const result = parseDomain(xml, 'destination domain XML');
  assertGuestVisibleUnchanged(source.root, result.root, { destName: opts.destName });
  const leftovers: Problem[] = pinningProblems(result.root, facts.cpuSet, facts.numaNodes).map((reason) => ({ path: '/domain', reason }));
  if (leftovers.length) {
    throw new DestinationXmlError(`the destination XML of '${domainName}' does not fit ${facts.hostName} (a bug in ferry)`, leftovers);
  }
  return { xml, changes: ctx.changes };
}
