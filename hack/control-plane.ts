// Local control plane for development and tests: `up`, `down`, `env`, `status`.
//   npm run control-plane -- up      starts etcd + kube-apiserver, prints the kubeconfig path
//   eval "$(npm run -s control-plane -- env)"
//   npm run control-plane -- down
import { defaultDir, envExports, readState, startControlPlane, stopControlPlane } from './lib/control-plane.js';

const command = process.argv[2];
const dir = defaultDir();

switch (command) {
  case 'up': {
    const state = await startControlPlane({ dir });
    process.stdout.write(`KUBECONFIG=${state.kubeconfig}\nAUDIT_LOG=${state.auditLog}\n`);
    break;
  }
  case 'down':
    await stopControlPlane(dir);
    break;
  case 'env': {
    const state = readState(dir);
    if (!state) {
      process.stderr.write(`no control plane recorded in ${dir}; run 'up' first\n`);
      process.exit(1);
    }
    process.stdout.write(envExports(state));
    break;
  }
  default:
    process.stderr.write('usage: tsx hack/control-plane.ts up|down|env\n');
    process.exit(2);
}
