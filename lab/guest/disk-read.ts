import fs from 'node:fs/promises';
import { checkGuestDisk, type DiskVerdict } from './disk-check';
import { readGuestSerial } from './serial';

/**
 * Reads a raw disk image of the lab guest. Only raw is read here: a qcow2 image must first be
 * turned into raw with `qemu-img convert -O raw <image> <copy>` (qemu-utils); read the copy.
 * Lab disks are small (a few MiB): the whole file is read into memory.
 */
export async function readRawDiskImage(path: string): Promise<Buffer> {
  const head = Buffer.alloc(4);
  const fh = await fs.open(path, 'r');
  try {
    await fh.read(head, 0, 4, 0);
  } finally {
    await fh.close();
  }
  if (head.toString('latin1') === 'QFI\xfb') {
    throw new Error(`${path} is a qcow2 image; convert it first: qemu-img convert -O raw ${path} <copy.raw>`);
  }
  return fs.readFile(path);
}

/**
 * Reads the image and the guest's serial log of every host it ran on (a host that never ran it
 * may be listed: a missing log reads as empty), and checks them with checkGuestDisk(). Stop or
 * pause the guest first, or the image moves under the reader.
 */
export async function checkGuestDiskFiles(opts: { imagePath: string; serialLogPaths: string[] }): Promise<DiskVerdict> {
  const image = await readRawDiskImage(opts.imagePath);
  const logs = await Promise.all(opts.serialLogPaths.map((p) => readGuestSerial(p, { missingOk: true })));
  return checkGuestDisk({ image, logs });
}
