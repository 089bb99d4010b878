/**
 * Secrets that libvirt's migratable XML carries (VNC/SPICE `passwd`, a few others) must never reach
 * Temporal's history or a log line: both are kept for a long time and read by many. Pure.
 */

/** Attributes whose value is a secret (libvirt: graphics passwd; auth/secret elements' usage keys). */
export const SECRET_ATTRIBUTES: readonly string[] = ['passwd', 'password', 'secret', 'key'];

export const REDACTED = '<redacted>';

/** True when an XML path such as `/domain/devices/graphics[1]/@passwd` names a secret attribute. */
export function isSecretAttributePath(path: string): boolean {
  const m = /\/@([A-Za-z_:][\w:.-]*)$/.exec(path);
  return m !== null && SECRET_ATTRIBUTES.includes(m[1]!.toLowerCase().replace(/^.*:/, ''));
}

/**
 * The same text with every secret attribute's value replaced (`passwd='s3cret'` ->
 * `passwd='<redacted>'`), whether the text is a whole domain XML or a message quoting part of one.
 */
export function redactSecrets(text: string): string {
  const names = SECRET_ATTRIBUTES.join('|');
  return text
    .replace(new RegExp(`(\\s(?:${names})\\s*=\\s*)'[^']*'`, 'gi'), `$1'${REDACTED}'`)
    .replace(new RegExp(`(\\s(?:${names})\\s*=\\s*)"[^"]*"`, 'gi'), `$1"${REDACTED}"`);
}

/** One change of the destination XML rewrite, as the history and the decisions show it. */
export interface XmlChangeDescription { path: string; from: string; to: string; why: string }

/**
 * A change in words; a secret attribute's values are never written (only that it changed), and
 * anything else is redacted in case it quotes XML.
 */
export function describeXmlChange(ch: XmlChangeDescription): string {
  if (isSecretAttributePath(ch.path)) return `${ch.path}: changed (secret, value not shown) (${redactSecrets(ch.why)})`;
  return redactSecrets(`${ch.path}: ${ch.from} -> ${ch.to} (${ch.why})`);
}
