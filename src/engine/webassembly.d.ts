// The slice of the WebAssembly JS API the engine uses. Node implements all of it, but
// TypeScript only declares it in the DOM libraries, which this project does not load.
declare global {
  namespace WebAssembly {
    class Module {
      constructor(bytes: ArrayBufferView | ArrayBuffer);
    }
    class Instance {
      readonly exports: Record<string, unknown>;
    }
    interface WebAssemblyInstantiatedSource {
      readonly instance: Instance;
      readonly module: Module;
    }
    class Memory {
      readonly buffer: ArrayBuffer;
    }
    function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
  }
}
export {};
