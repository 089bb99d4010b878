import { describe, expect, it } from 'vitest';
import { parseXml, serializeXml, XmlParseError } from '../../../activities/libvirt/dest-xml';
import { fixture, fixtureNames } from './fixtures';

describe('XML seam: parse and serialise', () => {
  it.each(fixtureNames)('round-trips libvirt output byte for byte: %s', (name) => {
    const xml = fixture(name);
    expect(serializeXml(parseXml(xml))).toBe(xml);
  });

  it('keeps metadata namespaces, libxml2 double quotes, comments, CDATA and a declaration', () => {
    const xml = [
      "<?xml version='1.0'?>",
      '<!-- kept -->',
      "<domain type='kvm'>",
      '  <metadata xmlns:ns0="http://example.org/ns0">',
      '    <ns0:instance ns0:id="it\'s">a &amp; b</ns0:instance>',
      '  </metadata>',
      "  <description>it&apos;s &lt;quoted&gt; &quot;here&quot;</description>",
      '  <cmdline><![CDATA[a<b]]></cmdline>',
      '</domain>',
      '',
    ].join('\n');
    expect(serializeXml(parseXml(xml))).toBe(xml);
  });

  it('rejects malformed XML with XmlParseError', () => {
    expect(() => parseXml("<domain><name>x</domain>")).toThrow(XmlParseError);
    expect(() => parseXml('')).toThrow(XmlParseError);
    expect(() => parseXml("<domain>\n  <name>x</domain>")).toThrow(
      'not well-formed XML: Opening and ending tag mismatch: "name" != "domain" (line 2, column 9)',
    );
    expect(() => parseXml("<domain a='1' a='2'/>")).toThrow(/Attribute a redefined/);
  });
});
