{{/* Chart name, truncated to the 63 characters Kubernetes names allow. */}}
{{- define "effnet.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; the release name alone when it already contains the chart name. */}}
{{- define "effnet.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "effnet.coordinator.fullname" -}}
{{- printf "%s-coordinator" (include "effnet.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "effnet.worker.fullname" -}}
{{- printf "%s-worker" (include "effnet.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "effnet.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "effnet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: efficientnet-batch
{{- end }}

{{/* Selector labels of one component; call with (dict "root" $ "component" "worker"). */}}
{{- define "effnet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "effnet.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The Secret holding Messaging__RabbitMqUri and Storage__AzureConnectionString. */}}
{{- define "effnet.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-connections" (include "effnet.fullname" .)) }}
{{- end }}

{{- define "effnet.coordinator.image" -}}
{{- printf "%s:%s" .Values.coordinator.image.repository (.Values.coordinator.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The worker image: the gpu or cpu target of deploy/worker.Dockerfile, after worker.gpu.enabled. */}}
{{- define "effnet.worker.image" -}}
{{- $flavour := ternary "gpu" "cpu" .Values.worker.gpu.enabled }}
{{- printf "%s:%s" .Values.worker.image.repository (.Values.worker.image.tag | default (printf "%s-%s" .Chart.AppVersion $flavour)) }}
{{- end }}

{{/* The volumes every pod mounts: the root filesystem is read-only, so /tmp is an emptyDir. */}}
{{- define "effnet.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "effnet.tmpVolume" -}}
- name: tmp
  emptyDir: {}
{{- end }}

{{/* The pods' service account. */}}
{{- define "effnet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- .Values.serviceAccount.name | default (include "effnet.fullname" .) }}
{{- else }}
{{- .Values.serviceAccount.name | default "default" }}
{{- end }}
{{- end }}

{{/* The Secret holding the API key hashes (Auth__ApiKeys__0__Name, ...); empty when there is none. */}}
{{- define "effnet.authSecretName" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else if .Values.auth.apiKeys }}
{{- printf "%s-auth" (include "effnet.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Workload identity: the pods get a token for the service account's Entra ID identity (storage.accountUrl). */}}
{{- define "effnet.workloadIdentity" -}}
{{- if and .Values.storage.accountUrl .Values.storage.workloadIdentity }}true{{ end }}
{{- end }}

{{/* Refuses a configuration the hosts would refuse at start (or, for auth, one that would leave the API open). */}}
{{- define "effnet.validate" -}}
{{- $auth := .Values.auth }}
{{- $jwt := and $auth.jwt.authority $auth.jwt.audience }}
{{- if not (or $auth.existingSecret $auth.apiKeys $jwt $auth.allowAnonymous) }}
{{- fail "auth: no caller could be authenticated. Set auth.apiKeys (or auth.existingSecret with the API key hashes), or auth.jwt.authority and auth.jwt.audience, or auth.allowAnonymous=true (local use only)" }}
{{- end }}
{{- if ne (empty $auth.jwt.authority) (empty $auth.jwt.audience) }}
{{- fail "auth.jwt.authority and auth.jwt.audience go together: set both or neither" }}
{{- end }}
{{- range $i, $key := $auth.apiKeys }}
{{- if not $key.name }}
{{- fail (printf "auth.apiKeys[%d].name is required" $i) }}
{{- end }}
{{- if not (regexMatch "^[0-9a-f]{64}$" (toString $key.sha256)) }}
{{- fail (printf "auth.apiKeys[%d].sha256 must be the lower-case hex SHA-256 of the key (printf %%s \"$KEY\" | sha256sum), not the key" $i) }}
{{- end }}
{{- if not $key.scopes }}
{{- fail (printf "auth.apiKeys[%d].scopes is empty: give at least one of jobs:read, jobs:submit, jobs:cancel, schedules:write, admin" $i) }}
{{- end }}
{{- end }}
{{- if and .Values.storage.accountUrl .Values.secrets.azureStorageConnectionString }}
{{- fail "storage.accountUrl and secrets.azureStorageConnectionString both name the storage account: set one" }}
{{- end }}
{{- end }}

{{/* Settings both hosts get: the identity-based storage account and where jobs may read and write. */}}
{{- define "effnet.sharedSettings" -}}
{{- with .Values.storage.accountUrl }}
# Reached with DefaultAzureCredential (workload identity): no key anywhere.
Storage__AccountUrl: {{ . | quote }}
{{- end }}
{{- range $i, $root := .Values.coordinator.allowedDatasets }}
Coordinator__AllowedDatasets__{{ $i }}: {{ $root | quote }}
{{- end }}
{{- range $i, $root := .Values.coordinator.allowedOutputs }}
Coordinator__AllowedOutputs__{{ $i }}: {{ $root | quote }}
{{- end }}
{{- end }}

{{/* The worker container's resources before the GPU is added: worker.gpu.resources on GPU workers (sized by the
decode-bound arithmetic in docs/benchmarks.md), worker.resources on CPU workers. */}}
{{- define "effnet.worker.resources" -}}
{{- $resources := ternary .Values.worker.gpu.resources .Values.worker.resources .Values.worker.gpu.enabled }}
{{- toYaml ($resources | default dict) }}
{{- end }}

{{/* The worker's CPU limit in whole CPUs (at least 1, rounded down), or empty when its limits.cpu is unset. */}}
{{- define "effnet.worker.cpuLimit" -}}
{{- $cpu := toString (dig "limits" "cpu" "" (include "effnet.worker.resources" . | fromYaml)) }}
{{- if $cpu }}
{{- if hasSuffix "m" $cpu }}
{{- max 1 (div (atoi (trimSuffix "m" $cpu)) 1000) }}
{{- else }}
{{- max 1 (int (floor (float64 $cpu))) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod labels and spec lines for the storage identity; call inside the pod template's labels. */}}
{{- define "effnet.identityLabels" -}}
{{- if include "effnet.workloadIdentity" . }}
azure.workload.identity/use: "true"
{{- end }}
{{- end }}
