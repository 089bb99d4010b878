/**
 * The configuration files of one lab host's libvirt daemons. Pure: the values come from the
 * lab state, so a test can check them without a daemon.
 */

export interface HostConfigInput {
  name: string;
  uuid: string;
  address: string;
}

/**
 * libvirtd.conf: TCP without auth (lab only: the addresses exist only inside the lab), and TLS on
 * 16514 where a client must show a certificate of the lab's CA (lab/tls.ts): the production shape.
 */
export function libvirtdConf(host: HostConfigInput): string {
  return [
    'listen_tls = 1',
    'listen_tcp = 1',
    // Authentication is the client certificate itself (tls_no_verify_certificate stays 0).
    'auth_tls = "none"',
    `listen_addr = "${host.address}"`,
    'auth_tcp = "none"',
    'auth_unix_rw = "none"',
    'auth_unix_ro = "none"',
    'unix_sock_rw_perms = "0700"',
    // A distinct host UUID per host, else libvirt refuses "migrate guest to the same host".
    `host_uuid = "${host.uuid}"`,
    'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"',
    'keepalive_interval = 5',
    'keepalive_count = 5',
    '',
  ].join('\n');
}

/** qemu.conf: root without a security driver (field notes), migration bound to the host's address. */
export function qemuConf(host: HostConfigInput): string {
  return [
    'user = "root"',
    'group = "root"',
    'dynamic_ownership = 0',
    'security_driver = "none"',
    'remember_owner = 0',
    `migration_address = "${host.address}"`,
    `migration_host = "${host.name}"`,
    'migration_port_min = 49152',
    'migration_port_max = 49215',
    // TLS of migration streams (VIR_MIGRATE_TLS): the host's files in /etc/pki/qemu, peers verified.
    'default_tls_x509_verify = 1',
    // Keep serial logs from rotating away under a running test.
    'stdio_handler = "file"',
    '',
  ].join('\n');
}

export function virtlogdConf(): string {
  return ['log_outputs = "3:file:/var/log/libvirt/virtlogd.log"', ''].join('\n');
}

/** One /etc/hosts shared by every lab host, so each resolves the others' names. */
export function etcHosts(hosts: Array<{ name: string; address: string }>): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback'];
  for (const h of hosts) lines.push(`${h.address} ${h.name}`);
  return `${lines.join('\n')}\n`;
}
