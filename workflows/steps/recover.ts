import type { MigrationSample } from '../../model/activity-contract';
import { recoverPostcopy } from '../activity-proxies';
import { enterPhase, type Migration, type MigrationInFlight } from '../migration-state';

/** A broken post-copy is resumed (POSTCOPY_RESUME, with backoff), never destroyed on either side. */
export async function recover(m: Migration, flight: MigrationInFlight, s: MigrationSample): Promise<void> {
  enterPhase(m, 'recovering');
  m.rec.decide(Date.now(), 'recover-postcopy', `post-copy broke (source ${JSON.stringify(s.source.domain)}, destination ${JSON.stringify(s.destination.domain)}): resuming it`);
  const r = await recoverPostcopy({ vm: flight.vm, source: flight.source, destination: flight.destination, destXml: flight.destXml });
  m.rec.decide(Date.now(), 'recovered', r);
  enterPhase(m, 'post-copy');
}
