/**
 * Host paths the destination may see elsewhere: disk sources (with their backing chains), direct
 * kernel boot and firmware files, vPMEM backing files, vhost-user sockets. Only prefixes in pathMap
 * move; a path it does not cover stays, except where staying cannot work (see the refusals below).
 */
import type { RewriteContext } from './context';
import { isUnderAny, mapPath } from './path-map';
import { attr, descendants, firstChild, select, textOf } from './xml-dom';

export function rewritePaths(ctx: RewriteContext): void {
  rewriteDiskSources(ctx);
  rewriteBootFiles(ctx);
  rewriteMemoryDevices(ctx);
  rewriteVhostUser(ctx);
}

function rewriteDiskSources(ctx: RewriteContext): void {
  const pathMap = ctx.facts.pathMap ?? {};
  const checkLocal = ctx.opts.sharedStorage === false;
  const shared = ctx.opts.sharedPathPrefixes ?? [];
  for (const disk of select(ctx.root, 'devices/disk')) {
    const dev = attr(firstChild(disk, 'target'), 'dev') ?? '?';
    for (const source of descendants(disk, 'source')) {
      for (const name of ['file', 'dev']) {
        const path = attr(source, name);
        if (path === undefined) continue;
        const mapped = mapPath(path, pathMap);
        if (mapped) {
          ctx.setAttribute(source, name, mapped.to, `disk ${dev}: pathMap '${mapped.prefix}'`);
        } else if (checkLocal && name === 'file' && attr(disk, 'type') === 'file' && !isUnderAny(path, shared)) {
          ctx.refuse(
            source,
            `disk ${dev} is the local file '${path}', storage is not shared and no pathMap prefix covers it: ` +
              'copy it to the destination and map its path, or migrate with shared storage',
          );
        }
      }
    }
  }
}

function rewriteBootFiles(ctx: RewriteContext): void {
  const pathMap = ctx.facts.pathMap ?? {};
  for (const tag of ['kernel', 'initrd', 'dtb', 'loader', 'nvram']) {
    for (const el of select(ctx.root, `os/${tag}`)) {
      const path = textOf(el)?.trim();
      const mapped = path ? mapPath(path, pathMap) : undefined;
      if (mapped) ctx.setText(el, mapped.to, `<${tag}>: pathMap '${mapped.prefix}'`);
    }
  }
  for (const nvram of select(ctx.root, 'os/nvram')) {
    const template = attr(nvram, 'template');
    const mapped = template === undefined ? undefined : mapPath(template, pathMap);
    if (mapped) ctx.setAttribute(nvram, 'template', mapped.to, `NVRAM template: pathMap '${mapped.prefix}'`);
  }
}

/** nvdimm and virtio-pmem backing files: pmemPaths (exact) first, then pathMap; assigned namespaces: vpmem.ts. */
function rewriteMemoryDevices(ctx: RewriteContext): void {
  if (ctx.facts.pmemAssigned !== undefined) return;
  const pmemPaths = ctx.facts.pmemPaths ?? {};
  const pathMap = ctx.facts.pathMap ?? {};
  for (const mem of select(ctx.root, 'devices/memory')) {
    const model = attr(mem, 'model') ?? '?';
    for (const pathEl of select(mem, 'source/path')) {
      const path = textOf(pathEl)?.trim();
      if (!path) continue;
      const exact = pmemPaths[path];
      if (exact !== undefined) {
        ctx.setText(pathEl, exact, `${model} backing: ${ctx.facts.hostName} reported its vPMEM path`);
        continue;
      }
      const mapped = mapPath(path, pathMap);
      if (mapped) ctx.setText(pathEl, mapped.to, `${model} backing: pathMap '${mapped.prefix}'`);
    }
  }
}

/**
 * A vhost-user socket belongs to a switch process on the source host; the destination's switch has
 * its own. Only an explicit mapping (an identity prefix is fine) says where it is.
 */
function rewriteVhostUser(ctx: RewriteContext): void {
  const pathMap = ctx.facts.pathMap ?? {};
  for (const iface of select(ctx.root, 'devices/interface')) {
    if (attr(iface, 'type') !== 'vhostuser') continue;
    const mac = attr(firstChild(iface, 'mac'), 'address') ?? '?';
    for (const source of select(iface, 'source')) {
      const path = attr(source, 'path');
      if (path === undefined) continue;
      const mapped = mapPath(path, pathMap);
      if (mapped) {
        ctx.setAttribute(source, 'path', mapped.to, `vhost-user ${mac}: pathMap '${mapped.prefix}'`);
      } else {
        ctx.refuse(
          source,
          `vhost-user interface ${mac} uses the socket '${path}' of the source host's switch and no pathMap ` +
            `prefix says where ${ctx.facts.hostName}'s is (map the prefix, to itself if it is the same path)`,
        );
      }
    }
  }
}
