// The started resources of a process, closed in reverse order of start on every path:
// a normal stop, a signal, or a start that failed halfway. A close that throws is reported
// and the others still close, so a failed start never leaves a port, a timer or a worker
// behind to keep the process alive (and, worse, answering probes).

export interface Resources {
  /** Registers a started resource; it is closed before every resource registered earlier. */
  add(name: string, close: () => unknown): void;
  /** Closes everything registered, newest first, once; later calls wait for the same run. */
  closeAll(): Promise<void>;
}

export interface ResourcesOptions {
  /** Told about each close that failed; closing goes on. */
  readonly onCloseError: (name: string, err: unknown) => void;
}

export function createResources(options: ResourcesOptions): Resources {
  const started: { name: string; close: () => unknown }[] = [];
  let closing: Promise<void> | undefined;
  return {
    add(name, close) {
      if (closing) throw new Error(`resource ${name} started after closing began`);
      started.push({ name, close });
    },
    closeAll() {
      closing ??= (async () => {
        for (const { name, close } of started.reverse()) {
          try {
            await close();
          } catch (err) {
            options.onCloseError(name, err);
          }
        }
      })();
      return closing;
    },
  };
}
