{{/*
Names are fixed (as in manifests/base), not derived from the release name: the webhook
configurations, cluster roles, Secret and Leases are cluster-wide or named by bouncer itself
(--service-name, --webhook-name, --cert-secret, the Lease names), so one release per cluster.
*/}}

{{/* The namespace bouncer watches for bundles and keeps its Secret and Leases in. */}}
{{- define "bouncer.watchNamespace" -}}
{{- .Values.bundles.watchNamespace | default .Release.Namespace -}}
{{- end -}}

{{/*
Labels: app.kubernetes.io/name=bouncer on every object (the selector `bouncer uninstall` and
the webhook configurations' owner check use), a component where the base has one, and Helm's
own labels. Call with (dict "ctx" $ "component" "webhook") or (dict "ctx" $).
*/}}
{{- define "bouncer.labels" -}}
app.kubernetes.io/name: bouncer
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The pods' selector: equal to manifests/base (selectors are immutable once deployed). */}}
{{- define "bouncer.selectorLabels" -}}
app.kubernetes.io/name: bouncer
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "bouncer.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ $tag }}
{{- end -}}
{{- end -}}

{{/* The service account's subject, for every binding. */}}
{{- define "bouncer.subject" -}}
- kind: ServiceAccount
  name: bouncer
  namespace: {{ .Release.Namespace }}
{{- end -}}

{{/*
The YAML documents of a file shipped under files/ (generated files of manifests/, linked,
never copied), as a list under key "docs": (include "bouncer.fileDocs" (dict "ctx" $ "file" "files/x.yaml") | fromYaml).docs
*/}}
{{- define "bouncer.fileDocs" -}}
{{- $docs := list -}}
{{- range (regexSplit "(?m)^---\\s*$" (.ctx.Files.Get .file) -1) -}}
{{- $doc := fromYaml . -}}
{{- if $doc -}}{{- $docs = append $docs $doc -}}{{- end -}}
{{- end -}}
{{- toYaml (dict "docs" $docs) -}}
{{- end -}}

{{/* The excluded namespaces of the webhooks: the configured ones, then bouncer's own. */}}
{{- define "bouncer.excludedNamespaces" -}}
{{- $names := concat .Values.webhooks.excludedNamespaces (list .Release.Namespace (include "bouncer.watchNamespace" .)) | uniq -}}
{{- toYaml $names -}}
{{- end -}}

{{/* The TCP port of decisionLog.url: explicit, else 443 for https and 80 for http. */}}
{{- define "bouncer.sinkPort" -}}
{{- $u := urlParse .Values.decisionLog.url -}}
{{- $port := regexFind ":[0-9]+$" $u.host -}}
{{- if $port -}}{{ trimPrefix ":" $port }}{{- else if eq $u.scheme "https" -}}443{{- else -}}80{{- end -}}
{{- end -}}
