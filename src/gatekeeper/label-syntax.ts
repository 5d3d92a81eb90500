// Label keys and values as Kubernetes validates them in selectors (k8s.io/apimachinery
// pkg/api/validate/content/kube.go IsLabelKey, IsLabelValue; dns.go IsDNS1123Subdomain),
// which Gatekeeper applies to a constraint's labelSelector and namespaceSelector
// (pkg/target/target.go ValidateConstraint → metav1validation.ValidateLabelSelector).
// Each function returns what is wrong, or undefined.

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_MAX = 63;
const PREFIX_MAX = 253;

export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'a label key is a name with an optional DNS subdomain prefix and one "/" (e.g. "example.com/my-name")';
  const [prefix, name] = parts.length === 2 ? [parts[0] as string, parts[1] as string] : [undefined, parts[0] as string];
  if (prefix !== undefined) {
    if (prefix === '') return 'the prefix part of a label key must be non-empty';
    if (prefix.length > PREFIX_MAX) return `the prefix part of a label key must be no more than ${PREFIX_MAX} bytes`;
    if (!DNS1123_SUBDOMAIN.test(prefix)) return 'the prefix part of a label key must be a lowercase DNS subdomain (e.g. "example.com")';
  }
  if (name === '') return 'the name part of a label key must be non-empty';
  if (name.length > NAME_MAX) return `the name part of a label key must be no more than ${NAME_MAX} bytes`;
  if (!NAME.test(name)) return "the name part of a label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > NAME_MAX) return `a label value must be no more than ${NAME_MAX} bytes`;
  if (value !== '' && !NAME.test(value)) return "a label value must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}
