// Cluster credentials: the given kubeconfig file, else $KUBECONFIG / ~/.kube/config, else
// the in-cluster service account (client-node's default order).
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}
