/**
 * The parse/serialise seam of the destination-XML rewrite: the only file that knows the DOM library.
 *
 * Parsing uses @xmldom/xmldom. Serialising is our own walk so that libvirt's output round-trips byte
 * for byte: libvirt single-quotes its attributes and escapes `<>&'"` everywhere, except inside
 * `<metadata>`, whose subtree libvirt hands to libxml2, which double-quotes. Keeping the text
 * identical means a reviewer (or a test) diffing source and destination XML sees only what we changed.
 */
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';

export type { Document, Element } from '@xmldom/xmldom';

const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;
const PROCESSING_INSTRUCTION = 7;
const COMMENT = 8;

export class XmlParseError extends Error {
  override readonly name = 'XmlParseError';
}

export interface XmlDocument {
  readonly doc: Document;
  readonly root: Element;
  /** Whitespace after the root element, which the DOM drops (libvirt ends its XML with a newline). */
  readonly trailing: string;
}

export function parseXml(source: string): XmlDocument {
  let doc: Document;
  try {
    // Without the locator xmldom parses twice as fast; a failure is parsed again with it for line numbers.
    doc = parseStrictly(source, false);
  } catch {
    throw new XmlParseError(`not well-formed XML: ${describeFailure(source)}`);
  }
  const root = doc.documentElement;
  if (!root) throw new XmlParseError('not well-formed XML: no root element');
  const trailing = /\s*$/.exec(source)?.[0] ?? '';
  return { doc, root, trailing };
}

/** xmldom throws on fatal errors itself and only reports the others: those count as failures too. */
function parseStrictly(source: string, locator: boolean): Document {
  const errors: string[] = [];
  const doc = new DOMParser({
    locator,
    onError: (level, msg) => {
      if (level === 'error') errors.push(msg);
    },
  }).parseFromString(source, 'text/xml');
  if (errors.length) throw new XmlParseError(errors[0]);
  return doc;
}

function describeFailure(source: string): string {
  try {
    parseStrictly(source, true);
    return 'unknown error';
  } catch (err) {
    const where = (err as { locator?: { lineNumber?: number; columnNumber?: number } }).locator;
    const message = err instanceof Error ? err.message : String(err);
    return where?.lineNumber ? `${message} (line ${where.lineNumber}, column ${where.columnNumber ?? '?'})` : message;
  }
}

export function serializeXml(x: XmlDocument): string {
  const out: string[] = [];
  for (const n of nodes(x.doc)) writeNode(n, out, "'");
  out.push(x.trailing);
  return out.join('');
}

/** A detached copy, so that a rewrite never mutates its caller's document. */
export function cloneXml(x: XmlDocument): XmlDocument {
  return parseXml(serializeXml(x));
}

function nodes(parent: Node): Node[] {
  const result: Node[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) result.push(n);
  return result;
}

function writeNode(n: Node, out: string[], quote: "'" | '"'): void {
  switch (n.nodeType) {
    case ELEMENT: {
      const el = n as Element;
      const q = el.tagName === 'metadata' ? '"' : quote;
      out.push('<', el.tagName);
      for (let i = 0; i < el.attributes.length; i++) {
        const a = el.attributes.item(i);
        if (a) out.push(' ', a.name, '=', q, escape(a.value, q, true), q);
      }
      const kids = nodes(el);
      if (kids.length === 0) {
        out.push('/>');
        return;
      }
      out.push('>');
      for (const k of kids) writeNode(k, out, q);
      out.push('</', el.tagName, '>');
      return;
    }
    case TEXT:
      out.push(escape(n.nodeValue ?? '', quote, false));
      return;
    case CDATA:
      out.push('<![CDATA[', n.nodeValue ?? '', ']]>');
      return;
    case COMMENT:
      out.push('<!--', n.nodeValue ?? '', '-->');
      return;
    case PROCESSING_INSTRUCTION:
      out.push('<?', n.nodeName, ' ', n.nodeValue ?? '', '?>');
      return;
    default:
      // Document types and entity nodes do not occur in libvirt's domain XML.
      return;
  }
}

/**
 * libvirt (virBufferEscapeString) escapes all five everywhere; libxml2 (the metadata subtree) leaves
 * apostrophes alone, and quotes only inside attributes.
 */
function escape(s: string, quote: "'" | '"', inAttribute: boolean): string {
  const special = quote === "'" ? /[<>&'"]/g : inAttribute ? /[<>&"]/g : /[<>&]/g;
  return s.replace(special, (c) => {
    switch (c) {
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '&':
        return '&amp;';
      case '"':
        return '&quot;';
      default:
        return '&apos;';
    }
  });
}

// ---- small navigation helpers over elements -------------------------------------------------

export function childElements(parent: Element, name?: string): Element[] {
  return nodes(parent).filter(
    (n): n is Element => n.nodeType === ELEMENT && (name === undefined || (n as Element).tagName === name),
  );
}

export function firstChild(parent: Element, name: string): Element | undefined {
  return childElements(parent, name)[0];
}

/** Elements reached by a slash-separated path of tag names below `parent` ("devices/disk/source"). */
export function select(parent: Element, path: string): Element[] {
  let current = [parent];
  for (const step of path.split('/')) current = current.flatMap((el) => childElements(el, step));
  return current;
}

/** Every descendant element (document order) whose tag is `name`. */
export function descendants(parent: Element, name: string): Element[] {
  const found: Element[] = [];
  const walk = (el: Element) => {
    for (const c of childElements(el)) {
      if (c.tagName === name) found.push(c);
      walk(c);
    }
  };
  walk(parent);
  return found;
}

export function parentElement(el: Element): Element | undefined {
  const p = el.parentNode;
  return p && p.nodeType === ELEMENT ? (p as Element) : undefined;
}

export function attr(el: Element | undefined, name: string): string | undefined {
  if (!el || !el.hasAttribute(name)) return undefined;
  return el.getAttribute(name) ?? undefined;
}

/** The element's text content (its text and CDATA children). */
export function textOf(el: Element | undefined): string | undefined {
  if (!el) return undefined;
  return nodes(el)
    .filter((n) => n.nodeType === TEXT || n.nodeType === CDATA)
    .map((n) => n.nodeValue ?? '')
    .join('');
}

/** Replaces the element's text (only used on leaf elements such as <kernel> or <path>). */
export function setText(el: Element, value: string): void {
  const doc = el.ownerDocument;
  if (!doc) throw new Error(`<${el.tagName}> belongs to no document`);
  for (const n of nodes(el)) el.removeChild(n);
  el.appendChild(doc.createTextNode(value));
}

/**
 * A canonical, order-preserving rendering of an element subtree, whitespace between elements
 * ignored: what the guest-visible check compares.
 */
export function canonical(el: Element | undefined): string {
  if (!el) return '∅';
  const attrs: string[] = [];
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i);
    if (a) attrs.push(`${a.name}=${JSON.stringify(a.value)}`);
  }
  attrs.sort();
  const kids = childElements(el).map(canonical);
  const text = kids.length === 0 ? (textOf(el) ?? '').trim() : '';
  return `${el.tagName}(${attrs.join(' ')})${text ? `"${text}"` : ''}${kids.length ? `[${kids.join(',')}]` : ''}`;
}

/**
 * An XPath-ish locator for change records and errors: each step is the tag with its 1-based
 * position among same-named siblings, or a more telling predicate when the element has one.
 */
export function locate(el: Element): string {
  const steps: string[] = [];
  let current: Element | undefined = el;
  while (current) {
    const parent = parentElement(current);
    steps.unshift(parent ? `${current.tagName}${predicate(current, parent)}` : current.tagName);
    current = parent;
  }
  return `/${steps.join('/')}`;
}

const identifyingAttribute: Record<string, string> = {
  vcpupin: 'vcpu',
  iothreadpin: 'iothread',
  memnode: 'cellid',
};

function predicate(el: Element, parent: Element): string {
  const key = identifyingAttribute[el.tagName];
  const keyValue = key ? attr(el, key) : undefined;
  if (key && keyValue !== undefined) return `[@${key}='${keyValue}']`;
  const siblings = childElements(parent, el.tagName);
  if (siblings.length === 1) return '';
  return `[${siblings.indexOf(el) + 1}]`;
}
