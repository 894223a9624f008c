{{/* Names. */}}
{{- define "telefonistka.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "telefonistka.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The name of one service's objects: <fullname>-<service>. */}}
{{- define "telefonistka.componentName" -}}
{{- printf "%s-%s" (include "telefonistka.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "telefonistka.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "telefonistka.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "telefonistka.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Labels: every object; selectors add the component. */}}
{{- define "telefonistka.selectorLabels" -}}
app.kubernetes.io/name: {{ include "telefonistka.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "telefonistka.labels" -}}
helm.sh/chart: {{ include "telefonistka.chart" . }}
{{ include "telefonistka.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: telefonistka
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "telefonistka.componentSelectorLabels" -}}
{{ include "telefonistka.selectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "telefonistka.componentLabels" -}}
{{ include "telefonistka.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "telefonistka.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
What each service does with GitHub, from the code: ingress never calls it;
the promoter alone approves; planner, promoter, drift, tracker and argodiff
write comments from templates; argodiff alone calls Argo CD.
*/}}
{{- define "telefonistka.callsGitHub" -}}
{{- has .name (list "planner" "promoter" "drift" "fanout" "bumper" "argodiff" "tracker") }}
{{- end }}

{{- define "telefonistka.comments" -}}
{{- has .name (list "planner" "promoter" "drift" "tracker" "argodiff") }}
{{- end }}

{{/* Enabled services, in a stable order. */}}
{{- define "telefonistka.enabledServices" -}}
{{- $out := list }}
{{- range $name, $svc := .Values.services }}
{{- if $svc.enabled }}{{ $out = append $out $name }}{{ end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/* Mount points of the files the services read. */}}
{{- define "telefonistka.paths" -}}
githubDir: /etc/telefonistka/github
approverDir: /etc/telefonistka/approver
natsDir: /etc/telefonistka/nats
commitStatusDir: /etc/telefonistka/commit-status
templatesDir: /srv/templates
spoolDir: /var/spool/telefonistka
{{- end }}

{{- define "telefonistka.templatesConfigMap" -}}
{{- if .Values.templates.existingConfigMap }}
{{- .Values.templates.existingConfigMap }}
{{- else if .Values.templates.files }}
{{- printf "%s-templates" (include "telefonistka.fullname" .) }}
{{- end }}
{{- end }}
