// Kubernetes name rules (k8s.io/apimachinery/pkg/util/validation).

/** RFC 1123 subdomain: what metadata.name of most objects must be (at most 253 characters). */
export function isDns1123Subdomain(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name);
}

/** RFC 1035 label: what a CRD's lowercase kind and plural must be (at most 63 characters). */
export function isDns1035Label(name: string): boolean {
  return name.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name);
}
