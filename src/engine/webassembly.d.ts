// The slice of the WebAssembly JS API the engine uses. Node implements all of it, but
// TypeScript only declares it in the DOM libraries, which this project does not load.
declare global {
  namespace WebAssembly {
    class Module {
      constructor(bytes: ArrayBufferView | ArrayBuffer);
    }
    class Instance {
      constructor(module: Module, imports: Record<string, Record<string, unknown>>);
      readonly exports: Record<string, unknown>;
    }
    interface WebAssemblyInstantiatedSource {
      readonly instance: Instance;
      readonly module: Module;
    }
    interface MemoryDescriptor {
      readonly initial: number;
      readonly maximum?: number;
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer;
    }
    class Global {
      readonly value: unknown;
    }
    function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
  }
}
export {};
