{{/*
Helpers of the jcode-watcher chart. Every name is namespaced "jcode-watcher." so that a parent
chart's helpers never collide with these.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "jcode-watcher.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every name: fullnameOverride, else <release>-<name> (just <release> when it
already contains the name). Truncated so that "<prefix>-operator" stays a DNS label.
*/}}
{{- define "jcode-watcher.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 54 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 54 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 54 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "jcode-watcher.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The recommended labels (app.kubernetes.io/*) of every object; pass (dict "context" $ "component" "x").
*/}}
{{- define "jcode-watcher.labels" -}}
helm.sh/chart: {{ include "jcode-watcher.chart" .context }}
{{ include "jcode-watcher.selectorLabels" . }}
app.kubernetes.io/version: {{ .context.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .context.Release.Service }}
app.kubernetes.io/part-of: jcode-watcher
{{- with .context.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Selector labels: stable ones only (a Deployment's selector cannot change). The component keeps
the operator's and the gateway's pods apart; pass (dict "context" $ "component" "x").
*/}}
{{- define "jcode-watcher.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jcode-watcher.name" .context }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{/* The image reference: repository@digest, or repository:tag (tag defaults to appVersion). */}}
{{- define "jcode-watcher.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Operator: names of its Deployment and RBAC objects, and of its ServiceAccount. */}}
{{- define "jcode-watcher.operator.fullname" -}}
{{- printf "%s-operator" (include "jcode-watcher.fullname" .) -}}
{{- end -}}

{{- define "jcode-watcher.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (include "jcode-watcher.operator.fullname" .) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The namespaces the operator serves, as a list: operator.namespaces; when empty, none (= every
namespace) if rbac.clusterWide, else the release namespace (a Role is granted per namespace).
*/}}
{{- define "jcode-watcher.operator.namespaces" -}}
{{- if .Values.operator.namespaces -}}
{{- toJson (uniq .Values.operator.namespaces) -}}
{{- else if .Values.rbac.clusterWide -}}
{{- toJson list -}}
{{- else -}}
{{- toJson (list .Release.Namespace) -}}
{{- end -}}
{{- end -}}

{{/*
The names of this release's objects in its namespace, comma-separated: the operator refuses an
instance whose children (watcher-<name>, watcher-<name>-data) would take one of them.
*/}}
{{- define "jcode-watcher.reservedNames" -}}
{{- $names := list (include "jcode-watcher.operator.fullname" .) (include "jcode-watcher.gateway.fullname" .) -}}
{{- if .Values.gateway.enabled -}}
{{- $names = append $names .Values.gateway.service.name -}}
{{- end -}}
{{- join "," (sortAlpha (uniq $names)) -}}
{{- end -}}

{{/*
The operator's RBAC rules: exactly operator/watcher_operator/rbac.py (tests/deploy holds the two
equal), one comment per rule. Pass (dict "namespaced" true|false "clusterScoped" true|false) to
get the rules a per-namespace Role holds, those always granted cluster-wide (the cluster-scoped
reads, and WatcherInstances: their finalizers must go even while a namespace and its Role are
being deleted), or both.
*/}}
{{- define "jcode-watcher.operator.rules" -}}
{{- if .namespaced }}
# The operator writes status (phase, conditions, readyReplicas, ...).
- apiGroups: [watcher.jcode.io]
  resources: [watcherinstances/status]
  verbs: [patch]
# Each instance's Deployment; watched for its readiness.
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch]
# Each instance's Service and data volume (never deleted by the operator).
- apiGroups: [""]
  resources: [services, persistentvolumeclaims]
  verbs: [get, create, patch]
# The gateway's routing table (watcher-routes); each instance's Litestream configuration.
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, create, patch]
# Each instance's ServiceMonitor; deleted when spec.serviceMonitor.enabled turns false.
- apiGroups: [monitoring.coreos.com]
  resources: [servicemonitors]
  verbs: [get, create, patch, delete]
# Events on WatcherInstances: created, updated, restarted, repaired, refused.
- apiGroups: [""]
  resources: [events]
  verbs: [create]
# Only the metadata of the Secret spec.backup names: BackupReady, restart on change.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
{{- end }}
{{- if .clusterScoped }}
# Kopf watches WatcherInstances and patches its finalizer on them, also in a namespace being deleted.
- apiGroups: [watcher.jcode.io]
  resources: [watcherinstances]
  verbs: [list, watch, patch]
# Kopf follows the namespaces it serves; reconcilers stop in a namespace being deleted.
- apiGroups: [""]
  resources: [namespaces]
  verbs: [list, watch]
# Kopf notices the WatcherInstance CRD being installed after the operator started.
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
{{- end }}
{{- end -}}

{{/* Gateway: the name of its Deployment (the Service keeps the original backend's name). */}}
{{- define "jcode-watcher.gateway.fullname" -}}
{{- printf "%s-gateway" (include "jcode-watcher.fullname" .) -}}
{{- end -}}

{{- define "jcode-watcher.gateway.serviceAccountName" -}}
{{- if .Values.gateway.serviceAccount.create -}}
{{- default (include "jcode-watcher.gateway.fullname" .) .Values.gateway.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.gateway.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Tokens of the sample instances: the Secret holding them ("" when no token is set). */}}
{{- define "jcode-watcher.tokens.secretName" -}}
{{- if .Values.auth.existingSecret -}}
{{- .Values.auth.existingSecret -}}
{{- else if or .Values.auth.ingestToken .Values.auth.readToken -}}
{{- printf "%s-tokens" (include "jcode-watcher.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Whether the cluster serves the Prometheus operator's API (ServiceMonitors). */}}
{{- define "jcode-watcher.hasMonitoring" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" -}}true{{- end -}}
{{- end -}}
