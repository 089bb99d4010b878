/**
 * No secret in the history or the logs: the redaction, the change descriptions the history
 * carries, and the fingerprint that stands in for the destination XML.
 */
import { describe, expect, it } from 'vitest';
import { destinationXmlFingerprint } from '../../../activities/destination-xml';
import { prepareDestinationXml } from '../../../activities/libvirt/dest-xml';
import { describeXmlChange, isSecretAttributePath, redactSecrets } from '../../../model/redact-secrets';
import { fixture, hostB } from '../dest-xml/fixtures';

const SECRET = 'Xq7-s3cret-pw';
/** The real fixture with a console password on its VNC element, as libvirt's migratable XML has it. */
const withPassword = fixture('pinned-vnc-tcp-serial.xml').replace("<graphics type='vnc'", `<graphics type='vnc' passwd='${SECRET}'`);

describe('redactSecrets', () => {
  it('replaces the value of passwd in single and double quotes, and keeps everything else', () => {
    expect(withPassword).toContain(SECRET);
    const r = redactSecrets(withPassword);
    expect(r).not.toContain(SECRET);
    expect(r).toContain("passwd='<redacted>'");
    expect(redactSecrets(`<graphics type="spice" passwd="${SECRET}" listen="0.0.0.0"/>`)).toBe('<graphics type="spice" passwd="<redacted>" listen="0.0.0.0"/>');
    expect(r.replace("passwd='<redacted>' ", '')).toBe(fixture('pinned-vnc-tcp-serial.xml'));
  });

  it('leaves attributes that only start like a secret name alone', () => {
    expect(redactSecrets("<keyboard keymap='de' passwdValidTo='2026-01-01'/>")).toBe("<keyboard keymap='de' passwdValidTo='2026-01-01'/>");
  });
});

describe('describeXmlChange', () => {
  it('never writes the values of a secret attribute', () => {
    const d = describeXmlChange({ path: '/domain/devices/graphics[1]/@passwd', from: SECRET, to: 'other-secret', why: 'test' });
    expect(d).not.toContain(SECRET);
    expect(d).not.toContain('other-secret');
    expect(d).toContain('/@passwd: changed (secret, value not shown)');
  });

  it('writes other changes in full, redacting any XML quoted in them', () => {
    expect(describeXmlChange({ path: '/domain/devices/graphics[1]/@listen', from: '10.77.0.13', to: '10.77.0.12', why: 'host-b' }))
      .toBe('/domain/devices/graphics[1]/@listen: 10.77.0.13 -> 10.77.0.12 (host-b)');
    expect(describeXmlChange({ path: '/domain/x', from: `<g passwd='${SECRET}'/>`, to: 'y', why: 'z' })).not.toContain(SECRET);
  });

  it('names secret attribute paths, and only those', () => {
    expect(isSecretAttributePath('/domain/devices/graphics[2]/@passwd')).toBe(true);
    expect(isSecretAttributePath('/domain/devices/graphics[2]/@listen')).toBe(false);
    expect(isSecretAttributePath('/domain/devices/graphics[2]/passwd')).toBe(false);
  });

  it('the real rewrite of a guest with a console password describes no secret', () => {
    const r = prepareDestinationXml(withPassword, hostB);
    expect(r.xml).toContain(`passwd='${SECRET}'`); // the destination still gets its password
    expect(r.changes.length).toBeGreaterThan(0);
    expect(r.changes.map(describeXmlChange).join('\n')).not.toContain(SECRET);
  });
});

describe('destinationXmlFingerprint', () => {
  it('is the same for the same rebuild, differs when anything differs, and does not reveal the XML', () => {
    const a = prepareDestinationXml(withPassword, hostB).xml;
    const b = prepareDestinationXml(withPassword, hostB).xml;
    expect(destinationXmlFingerprint(a)).toBe(destinationXmlFingerprint(b));
    expect(destinationXmlFingerprint(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(destinationXmlFingerprint(a.replace(SECRET, `${SECRET}x`))).not.toBe(destinationXmlFingerprint(a));
    expect(destinationXmlFingerprint(a)).not.toContain(SECRET);
  });
});
