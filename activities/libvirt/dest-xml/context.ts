/** Shared state of one rewrite pass: the facts, the options, and what was changed or refused. */
import type { Problem } from './errors';
import type { Change, DestinationFacts, PrepareOptions } from './facts';
import { attr, locate, setText, textOf, type Element } from './xml-dom';

export class RewriteContext {
  readonly changes: Change[] = [];
  readonly problems: Problem[] = [];

  constructor(
    readonly root: Element,
    readonly facts: DestinationFacts,
    readonly opts: PrepareOptions,
  ) {}

  setAttribute(el: Element, name: string, to: string, why: string): void {
    const from = attr(el, name);
    if (from === undefined || from === to) return;
    el.setAttribute(name, to);
    this.changes.push({ path: `${locate(el)}/@${name}`, from, to, why });
  }

  setText(el: Element, to: string, why: string): void {
    const from = textOf(el) ?? '';
    if (from === to) return;
    setText(el, to);
    this.changes.push({ path: locate(el), from, to, why });
  }

  refuse(el: Element, reason: string): void {
    this.problems.push({ path: locate(el), reason });
  }
}

const wildcards = new Set(['0.0.0.0', '::', '[::]', '']);
const loopbacks = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

/** Addresses that mean the same on every host, so keeping them is never source-specific. */
export function isHostIndependentAddress(address: string): boolean {
  const a = address.trim().toLowerCase();
  return wildcards.has(a) || loopbacks.has(a) || /^127\./.test(a);
}
