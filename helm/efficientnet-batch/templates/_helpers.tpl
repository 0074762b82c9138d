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
