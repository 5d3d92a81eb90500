// Reads an OPA bundle tarball (gzipped tar) into memory, with bounds: the bytes are
// untrusted until the manifest, digests and signature have been checked.
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { BouncerError } from '../errors/errors.js';

export const MAX_BUNDLE_UNCOMPRESSED = 64 * 1024 * 1024;
export const MAX_BUNDLE_FILES = 2000;

/** File path (always starting with '/') → content. */
export type BundleFiles = ReadonlyMap<string, Uint8Array>;

function corrupt(message: string, cause?: unknown): BouncerError {
  return new BouncerError('BUNDLE_CORRUPT', message, cause === undefined ? {} : { cause });
}

function normalizePath(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw corrupt(`bundle entry ${JSON.stringify(name)} escapes the bundle root`);
  return `/${parts.join('/')}`;
}

export async function readBundleArchive(bytes: Uint8Array): Promise<BundleFiles> {
  let tar: Buffer;
  try {
    tar = gunzipSync(bytes, { maxOutputLength: MAX_BUNDLE_UNCOMPRESSED });
  } catch (cause) {
    throw corrupt(`the bundle is not gzip data within ${MAX_BUNDLE_UNCOMPRESSED} bytes: ${(cause as Error).message}`, cause);
  }
  const files = new Map<string, Uint8Array>();
  const parser = extract();
  const done = new Promise<void>((resolve, reject) => {
    parser.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('error', reject);
      stream.on('end', () => {
        try {
          if (header.type === 'file') {
            if (files.size >= MAX_BUNDLE_FILES) throw corrupt(`the bundle has more than ${MAX_BUNDLE_FILES} files`);
            const path = normalizePath(header.name);
            if (files.has(path)) throw corrupt(`the bundle has ${path} twice`);
            files.set(path, Buffer.concat(chunks));
          } else if (header.type !== 'directory') {
            throw corrupt(`bundle entry ${header.name} is a ${header.type}; only files and directories are allowed`);
          }
          next();
        } catch (err) {
          reject(err);
        }
      });
    });
    parser.on('finish', resolve);
    parser.on('error', (cause: Error) => reject(corrupt(`the bundle is not a valid tar archive: ${cause.message}`, cause)));
  });
  Readable.from([tar]).pipe(parser);
  await done;
  if (files.size === 0) throw corrupt('the bundle archive is empty');
  return files;
}
