/** Why a destination XML cannot be produced. Never worth retrying: the same input fails the same way. */

export interface Problem {
  /** XPath-ish locator of the element at fault ('/domain' for whole-domain problems). */
  path: string;
  reason: string;
}

export class DestinationXmlError extends Error {
  override name = 'DestinationXmlError';
  readonly nonRetryable = true;

  constructor(
    readonly summary: string,
    readonly problems: readonly Problem[],
  ) {
    super(problems.length ? `${summary}:\n${problems.map((p) => `  - ${p.path}: ${p.reason}`).join('\n')}` : summary);
  }
}

/** The rewrite changed something the guest sees: a bug in ferry, never the operator's fault. */
export class GuestVisibleChangeError extends DestinationXmlError {
  override name = 'GuestVisibleChangeError';
}
