// The webhook's serving certificate, wherever it comes from (files on disk, or the Secret
// bouncer manages itself): one interface, so the server only knows "a first certificate,
// then changes".

export interface ServingMaterial {
  readonly cert: string;
  readonly key: string;
  /** Client CA: when set, clients must present a certificate it signed. */
  readonly ca?: string;
}

export interface CertificateSource {
  /** Resolves with the first usable certificate, or rejects with TLS_INVALID. */
  start(): Promise<ServingMaterial>;
  /** Called with each later certificate (after start resolved). */
  onChange(listener: (material: ServingMaterial) => void): void;
  stop(): void;
}
