import { describe, expect, it } from 'vitest';
import { etcHosts, libvirtdConf, qemuConf } from '../../../lab/libvirt-config';
import { hostAddress } from '../../../lab/network';
import { validateLabUpOptions, DEFAULT_LAB } from '../../../lab/lab';
import { hostCertExtensions, hostPkiLayout } from '../../../lab/tls';

const host = { name: 'host-b', uuid: '6f1c2a4e-3b7d-4c59-9e0a-2d8f1b6c7a30', address: hostAddress(2) };

describe('lab host configuration', () => {
  it('gives each host its own UUID and listens only on its lab address', () => {
    const conf = libvirtdConf(host);
    expect(conf).toContain(`host_uuid = "${host.uuid}"`);
    expect(conf).toContain('listen_addr = "10.77.0.12"');
    // TLS too, authenticated by the client's certificate of the lab CA (no other auth).
    expect(conf).toContain('listen_tls = 1');
    expect(conf).toContain('auth_tls = "none"');
    expect(conf).not.toContain('tls_no_verify_certificate');
  });

  it("has each host's certificate name its host name and address, fit for server and client", () => {
    const ext = hostCertExtensions(host.name, host.address);
    expect(ext).toContain('subjectAltName = DNS:host-b, IP:10.77.0.12');
    expect(ext).toContain('extendedKeyUsage = serverAuth, clientAuth');
    expect(ext).toContain('CA:FALSE');
    // libvirt's and QEMU's default paths, each given the CA, the certificate or the key.
    const layout = Object.fromEntries(hostPkiLayout());
    expect(layout['CA/cacert.pem']).toBe('ca');
    expect(layout['libvirt/private/serverkey.pem']).toBe('key');
    expect(layout['qemu/server-cert.pem']).toBe('cert');
    expect(layout['qemu/client-key.pem']).toBe('key');
  });

  it('binds migration streams to the host address and advertises the host name', () => {
    const conf = qemuConf(host);
    expect(conf).toContain('migration_address = "10.77.0.12"');
    expect(conf).toContain('migration_host = "host-b"');
    expect(conf).toContain('security_driver = "none"');
  });

  it('resolves every host name from every host', () => {
    const text = etcHosts([
      { name: 'host-a', address: hostAddress(1) },
      { name: 'host-b', address: hostAddress(2) },
    ]);
    expect(text.split('\n')).toEqual(expect.arrayContaining(['10.77.0.11 host-a', '10.77.0.12 host-b']));
  });
});

describe('lab up options', () => {
  it('refuses a host count outside 2..8, naming the option', () => {
    expect(() => validateLabUpOptions({ ...DEFAULT_LAB, hosts: 1 })).toThrow(/--hosts/);
    expect(() => validateLabUpOptions({ ...DEFAULT_LAB, hosts: 9 })).toThrow(/--hosts/);
    expect(() => validateLabUpOptions({ ...DEFAULT_LAB, hosts: 2.5 })).toThrow(/--hosts/);
    expect(() => validateLabUpOptions({ ...DEFAULT_LAB, hosts: 3 })).not.toThrow();
  });

  it('refuses a non-positive link cap, naming the option', () => {
    expect(() => validateLabUpOptions({ ...DEFAULT_LAB, linkMbps: 0 })).toThrow(/--link-mbps/);
    expect(() => validateLabUpOptions({ ...DEFAULT_LAB, linkMbps: 200 })).not.toThrow();
  });
});
