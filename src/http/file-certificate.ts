// The serving certificate from --tls-cert/--tls-key (and --client-ca): checked at start,
// reloaded when the files change (a projected Secret, cert-manager); a changed pair that
// does not check out is reported and the current certificate keeps serving.
import type { CertificateSource, ServingMaterial } from '../certs/serving-certificate.js';
import { loadTls, watchTlsFiles, type TlsFiles, type TlsMaterial } from './tls.js';

export interface FileCertificateOptions {
  readonly files: TlsFiles;
  readonly log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export function createFileCertificateSource(options: FileCertificateOptions): CertificateSource {
  const listeners: ((material: ServingMaterial) => void)[] = [];
  let unwatch: (() => void) | undefined;
  return {
    async start() {
      const material = loadTls(options.files);
      unwatch = watchTlsFiles(
        options.files,
        (changed: TlsMaterial) => {
          for (const listener of listeners) listener(changed);
          options.log.info({ notAfter: changed.notAfter }, 'serving certificate reloaded from its files');
        },
        (err) => options.log.error({ err }, 'the changed serving certificate files are unusable; keeping the current certificate'),
      );
      return material;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    stop() {
      unwatch?.();
    },
  };
}
