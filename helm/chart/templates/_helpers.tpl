{{/* Names, labels and the image reference, shared by every template. */}}

{{- define "workorders.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "workorders.namespace" -}}
{{- default .Release.Namespace .Values.namespace.name -}}
{{- end -}}

{{- define "workorders.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "workorders.name" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "workorders.selectorLabels" -}}
app.kubernetes.io/name: {{ include "workorders.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "workorders.labels" -}}
{{ include "workorders.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shiprail
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
shiprail.dev/environment: {{ .Values.environment }}
{{- end -}}

{{/* repository@digest when a digest is given, else repository:tag; both are immutable. */}}
{{- define "workorders.image" -}}
{{- $repo := required "image.repository is required (a repository in an allowed registry)" .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- $tag := required "image.tag or image.digest is required (an immutable tag or a sha256 digest)" .Values.image.tag -}}
{{- if eq $tag "latest" -}}
{{- fail "image.tag must not be \"latest\": use an immutable tag or image.digest" -}}
{{- end -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}
